// Command kube-apiserver is upstream's kube-apiserver, built from the k8s.io/kubernetes
// module so that Maestro's local control plane needs only the Go module proxy.
// It mirrors cmd/kube-apiserver/apiserver.go of the pinned release.
package main

import (
	"os"
	_ "time/tzdata" // for CronJob time zone support

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
