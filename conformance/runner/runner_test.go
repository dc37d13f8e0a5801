package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/interop-suite/interop/conformance/cases"
	"github.com/interop-suite/interop/conformance/netsim"
	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/results"
)

func helloImpl(name string) registry.Impl {
	return registry.Impl{Name: name, Manifest: registry.Manifest{Language: name, Roles: map[registry.Role]registry.RoleConfig{
		registry.HelloClient: {Command: []string{"c"}}, registry.HelloServer: {Command: []string{"s"}},
	}}}
}

// Image problems decide a cell before anything runs: a build the machine
// failed is an infrastructure error, never blamed; a build the
// implementation broke is its failure.
func TestImageProblemsDecideTheCell(t *testing.T) {
	c := cases.Cell{Protocol: cases.Hello, Client: "a", Server: "b", Scenario: "tcp-clean", Seed: 1}
	impls := map[string]registry.Impl{"a": helloImpl("a"), "b": helloImpl("b")}

	env := &Env{Impls: impls, ImageInfraErrors: map[string]string{"b": "only 0.2 GiB free on /var/lib/docker"}}
	r := env.Run(context.Background(), c)
	if r.Verdict != results.InfraError || r.Blame != "" || !strings.Contains(r.Reason, "0.2 GiB free") {
		t.Fatalf("machine's build failure: verdict %s, blame %q, reason %q", r.Verdict, r.Blame, r.Reason)
	}

	env = &Env{Impls: impls, ImageErrors: map[string]string{"b": "image build failed: RUN make: exit 2"}}
	r = env.Run(context.Background(), c)
	if r.Verdict != results.Fail || r.Blame != "server" || !strings.Contains(r.Reason, "RUN make") {
		t.Fatalf("implementation's build failure: verdict %s, blame %q, reason %q", r.Verdict, r.Blame, r.Reason)
	}
}

// Every probe of the plan has a way to run, over a simulator scenario
// that exists.
func TestEveryProbeHasASetup(t *testing.T) {
	for _, p := range cases.Probes {
		s, ok := probeSetups[p.Name]
		if !ok {
			t.Errorf("probe %s has no setup", p.Name)
			continue
		}
		if _, err := netsim.Lookup(s.scenario); err != nil {
			t.Errorf("probe %s: %v", p.Name, err)
		}
		if (len(s.serverArgs) > 0 || s.noServer) && p.Tests != cases.ClientSide || (len(s.clientArgs) > 0 || s.twice || s.silentClients) && p.Tests != cases.ServerSide {
			t.Errorf("probe %s gives the reference flags on the side under test", p.Name)
		}
	}
}

// A probe of a role the implementation does not declare is unsupported
// (MANIFEST-4), decided before anything runs.
func TestProbeOfAnUndeclaredRole(t *testing.T) {
	serverOnly := registry.Impl{Name: "s", Manifest: registry.Manifest{Language: "S", Roles: map[registry.Role]registry.RoleConfig{
		registry.HelloServer: {Command: []string{"s"}}}}}
	env := &Env{Impls: map[string]registry.Impl{"s": serverOnly, registry.ReferenceName: registry.Reference()}}
	r := env.Run(context.Background(), cases.Cell{Protocol: cases.Hello, Client: "s", Server: registry.ReferenceName, Scenario: "probe-refused", Seed: 1})
	if r.Verdict != results.Unsupported || !strings.Contains(r.Reason, "hello-client") {
		t.Fatalf("verdict %s, reason %q", r.Verdict, r.Reason)
	}
}

// A client's declared startup_seconds comes on top of each protocol's
// limit (MANIFEST-12, MANIFEST-16).
func TestClientTimeoutAddsDeclaredStartup(t *testing.T) {
	slow := registry.RoleConfig{StartupSeconds: 30}
	for _, tc := range []struct {
		cell cases.Cell
		role registry.RoleConfig
		want time.Duration
	}{
		{cases.Cell{Protocol: cases.Hello, Scenario: "tcp-clean"}, registry.RoleConfig{}, 30 * time.Second},
		{cases.Cell{Protocol: cases.Hello, Scenario: "tcp-clean"}, slow, 60 * time.Second},
		{cases.Cell{Protocol: cases.RUDP, Scenario: "clean"}, slow, 90 * time.Second},
		{cases.Cell{Protocol: cases.RUDP, Scenario: "loss-10"}, registry.RoleConfig{}, 120 * time.Second},
	} {
		if got := clientTimeout(tc.cell, tc.role); got != tc.want {
			t.Errorf("%s %s with startup %d s: %v, want %v", tc.cell.Protocol, tc.cell.Scenario, tc.role.StartupSeconds, got, tc.want)
		}
	}
}
