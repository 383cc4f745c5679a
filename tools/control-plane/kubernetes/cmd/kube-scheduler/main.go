// Command kube-scheduler is upstream's kube-scheduler (binds Pods to Nodes), built from
// the k8s.io/kubernetes module. It mirrors cmd/kube-scheduler/scheduler.go of the pinned
// release.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func main() {
	command := app.NewSchedulerCommand()
	code := cli.Run(command)
	os.Exit(code)
}
