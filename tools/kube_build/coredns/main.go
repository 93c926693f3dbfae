// Command coredns is upstream CoreDNS with only the plugins the cluster's Corefile uses.
//
// Importing a plugin registers it; leaving the rest out (cloud backends, forwarders) keeps the
// binary small and means pods cannot be configured to resolve through anything but the cluster.
package main

import (
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	coremain.Run()
}
