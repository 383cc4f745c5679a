// Command kube-controller-manager is upstream's kube-controller-manager (garbage
// collector and built-in controllers), built from the k8s.io/kubernetes module.
// It mirrors cmd/kube-controller-manager/controller-manager.go of the pinned release.
package main

import (
	"os"
	_ "time/tzdata" // for CronJob time zone support

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
