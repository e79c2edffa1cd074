// Command csrc-cert-manager-signer runs cert-manager's Kubernetes CSR signer for CA
// issuers (the "certificatesigningrequests-issuer-ca" controller) and the ClusterIssuer
// controller that marks a CA ClusterIssuer Ready, against one kubeconfig.
//
// Why not cert-manager's own controller binary: its main package lives in the
// separate Go module github.com/cert-manager/cert-manager/cmd/controller, which the Go
// module proxy does not serve. This harness builds the same controllers from the main
// module (github.com/cert-manager/cert-manager, served by the proxy) the way
// cmd/controller/app does: one ContextFactory, the registered constructors, then the
// shared informer factories. In cert-manager v1.21 these CSR controllers sit behind
// the alpha feature gate ExperimentalCertificateSigningRequestControllers (default
// false); choosing the controller here is what that gate would enable.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificatesigningrequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca" // registers the "ca" issuer type
)

var controllers = []string{"clusterissuers", "certificatesigningrequests-issuer-ca"}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster (its current context)")
	namespace := flag.String("cluster-resource-namespace", "cert-manager", "where ClusterIssuer secrets live")
	flag.Parse()
	if err := run(*kubeconfig, *namespace); err != nil {
		fmt.Fprintln(os.Stderr, "csrc-cert-manager-signer:", err)
		os.Exit(1)
	}
}

func run(kubeconfig, namespace string) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	opts := controllerpkg.ContextOptions{
		Kubeconfig:         kubeconfig,
		KubernetesAPIQPS:   50,
		KubernetesAPIBurst: 100,
	}
	opts.IssuerOptions.ClusterResourceNamespace = namespace
	factory, err := controllerpkg.NewContextFactory(ctx, opts)
	if err != nil {
		return err
	}
	var running []controllerpkg.Interface
	for _, name := range controllers {
		build, ok := controllerpkg.Known()[name]
		if !ok {
			return fmt.Errorf("controller %q is not registered", name)
		}
		c, err := build(factory)
		if err != nil {
			return fmt.Errorf("building %s: %w", name, err)
		}
		running = append(running, c)
	}
	base, err := factory.Build()
	if err != nil {
		return err
	}
	base.KubeSharedInformerFactory.Start(ctx.Done())
	base.SharedInformerFactory.Start(ctx.Done())
	fmt.Println("cert-manager CSR signer running")
	var wg sync.WaitGroup
	errs := make(chan error, len(running))
	for _, c := range running {
		wg.Add(1)
		go func(c controllerpkg.Interface) {
			defer wg.Done()
			if err := c.Run(2, ctx); err != nil {
				errs <- err
				cancel()
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	return <-errs
}
