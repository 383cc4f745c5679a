// Command kwok is upstream's kwok (sigs.k8s.io/kwok): it keeps fake Nodes Ready and moves
// the Pods bound to them through their lifecycle (stages), so that Deployments become
// Available without a kubelet or a container runtime. It mirrors cmd/kwok/main.go of the
// pinned release (Apache-2.0, The Kubernetes Authors); a separate module from the
// Kubernetes wrapper so that version selection of the two never interferes.
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
