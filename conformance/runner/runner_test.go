package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/interop-suite/interop/conformance/cases"
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
