// Command kwok is upstream's kwok (sigs.k8s.io/kwok): it keeps fake Nodes Ready and moves
// the Pods bound to them through their lifecycle (stages), so that Deployments become
// Available without a kubelet or a container runtime. It mirrors cmd/kwok/main.go of the
// pinned release (Apache-2.0, The Kubernetes Authors). It lives in the Kubernetes wrapper
// module so that it shares the compiled client-go, apimachinery, gRPC, ... with the control
// plane: go.mod pins every module kwok would raise back to the version Kubernetes selects
// (the `replace` lines scripts/control-plane-assets --update generates), so the Kubernetes
// binaries are built from exactly the sources of the release.
package main

import (
	"os"

	"github.com/spf13/pflag"

	"sigs.k8s.io/kwok/pkg/config"
	"sigs.k8s.io/kwok/pkg/kwok/cmd"
	"sigs.k8s.io/kwok/pkg/log"
	"sigs.k8s.io/kwok/pkg/utils/signals"
)

func main() {
	flagset := pflag.NewFlagSet("global", pflag.ContinueOnError)
	flagset.ParseErrorsAllowlist.UnknownFlags = true
	flagset.Usage = func() {}

	ctx := signals.SetupSignalContext()
	ctx, logger := log.InitFlags(ctx, flagset)

	ctx, err := config.InitFlags(ctx, flagset)
	if err != nil {
		_, _ = os.Stderr.Write([]byte(flagset.FlagUsages()))
		logger.Error("Init config flags", "err", err)
		os.Exit(1)
	}

	command := cmd.NewCommand(ctx)
	command.PersistentFlags().AddFlagSet(flagset)
	err = command.ExecuteContext(ctx)
	if err != nil {
		logger.Error("Execute exit", "err", err)
		os.Exit(1)
	}
}
