// Command etcd is upstream's etcd server, built from go.etcd.io/etcd/server/v3.
// It is a separate module from the Kubernetes wrapper so that version selection of
// the two never interferes.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
