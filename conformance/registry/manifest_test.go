package registry

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const good = `{
  "language": "Python",
  "toolchain": "python",
  "roles": {
    "hello-client":  {"command": ["python3", "/app/hello.py", "client", "{host}", "{port}"], "needs_ip": true},
    "hello-server":  {"command": ["python3", "/app/hello.py", "server", "{port}"], "features": {"challenge": ["--challenge"]}},
    "rudp-sender":   {"command": ["python3", "/app/s.py", "-a", "{host}", "-p", "{port}", "-f", "{file}"], "features": {"sack": ["-k"]}},
    "rudp-receiver": {"command": ["python3", "/app/r.py", "--port={port}", "-t", "{timeout}"], "ready": {"log": "listening"}, "startup_seconds": 20}
  }
}`

func TestParseManifestGood(t *testing.T) {
	m, err := ParseManifest("python", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "python" || m.Dockerfile != "Dockerfile" || !m.Roles[HelloClient].NeedsIP {
		t.Fatalf("defaults not applied: %+v", m)
	}
	if m.Roles[RUDPReceiver].Ready == nil || m.Roles[RUDPReceiver].Ready.Log.String() != "listening" {
		t.Fatalf("ready.log not parsed: %+v", m.Roles[RUDPReceiver])
	}
	argv, err := m.Roles[RUDPReceiver].Expand(map[string]string{"port": "7", "timeout": "10"})
	if err != nil || !reflect.DeepEqual(argv, []string{"python3", "/app/r.py", "--port=7", "-t", "10"}) {
		t.Fatalf("expand: %q %v", argv, err)
	}
	argv, err = m.Roles[RUDPSender].Expand(map[string]string{"host": "sim", "port": "9000", "file": "/in/x"}, SACK)
	if err != nil || !reflect.DeepEqual(argv, []string{"python3", "/app/s.py", "-a", "sim", "-p", "9000", "-f", "/in/x", "-k"}) {
		t.Fatalf("expand with feature: %q %v", argv, err)
	}
	if _, err := m.Roles[HelloClient].Expand(nil, SACK); err == nil {
		t.Fatal("expanding an undeclared feature must fail")
	}
}

// TestExpandIsLiteral: values with shell metacharacters stay one argument
// each, byte for byte (MANIFEST-5), and {{ }} escape braces.
func TestExpandIsLiteral(t *testing.T) {
	rc := RoleConfig{Command: []string{"prog", "{file}", "{{file}}", "x{port}y"}}
	argv, err := rc.Expand(map[string]string{"file": "a b;rm -rf /$(x)", "port": "1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"prog", "a b;rm -rf /$(x)", "{file}", "x1y"}
	if !reflect.DeepEqual(argv, want) {
		t.Fatalf("got %q want %q", argv, want)
	}
}

func TestParseManifestErrors(t *testing.T) {
	cases := []struct{ name, folder, json, want string }{
		{"unknown role", "x", `{"language":"X","roles":{"hello-clinet":{"command":["a"]}}}`, "MANIFEST-4: unknown role"},
		{"no roles", "x", `{"language":"X","roles":{}}`, "MANIFEST-4"},
		{"empty command", "x", `{"language":"X","roles":{"hello-client":{"command":[]}}}`, "MANIFEST-5"},
		{"unknown placeholder", "x", `{"language":"X","roles":{"hello-client":{"command":["a","{hostname}"]}}}`, "MANIFEST-6: unknown placeholder {hostname}"},
		{"placeholder of another role", "x", `{"language":"X","roles":{"hello-server":{"command":["a","{host}"]}}}`, "MANIFEST-6"},
		{"feature on wrong role", "x", `{"language":"X","roles":{"hello-client":{"command":["a"],"features":{"sack":["-k"]}}}}`, "MANIFEST-8"},
		{"unknown feature", "x", `{"language":"X","roles":{"rudp-sender":{"command":["a"],"features":{"turbo":["-t"]}}}}`, "MANIFEST-8"},
		{"unknown field", "x", `{"language":"X","langauge":"Y","roles":{"hello-client":{"command":["a"]}}}`, "MANIFEST-1"},
		{"bad language", "x", `{"language":"X|Y","roles":{"hello-client":{"command":["a"]}}}`, "MANIFEST-3"},
		{"missing language", "x", `{"roles":{"hello-client":{"command":["a"]}}}`, "MANIFEST-3"},
		{"name mismatch", "x", `{"name":"y","language":"X","roles":{"hello-client":{"command":["a"]}}}`, "MANIFEST-2"},
		{"bad folder name", "My_Impl", `{"language":"X","roles":{"hello-client":{"command":["a"]}}}`, "MANIFEST-2"},
		{"reserved name", "reference", `{"language":"X","roles":{"hello-client":{"command":["a"]}}}`, "MANIFEST-2"},
		{"dockerfile outside", "x", `{"language":"X","dockerfile":"../Dockerfile","roles":{"hello-client":{"command":["a"]}}}`, "MANIFEST-10"},
		{"client startup too long", "x", `{"language":"X","roles":{"hello-client":{"command":["a"],"startup_seconds":90}}}`, "MANIFEST-12"},
		{"needs_ip on server", "x", `{"language":"X","roles":{"hello-server":{"command":["a"],"needs_ip":true}}}`, "MANIFEST-7"},
		{"ready on client", "x", `{"language":"X","roles":{"hello-client":{"command":["a"],"ready":"port"}}}`, "MANIFEST-1"},
		{"bad ready regex", "x", `{"language":"X","roles":{"hello-server":{"command":["a"],"ready":{"log":"("}}}}`, "MANIFEST-1"},
		{"trailing data", "x", `{"language":"X","roles":{"hello-client":{"command":["a"]}}} {}`, "MANIFEST-1"},
		{"not json", "x", `language: X`, "MANIFEST-1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseManifest(c.folder, []byte(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want error containing %q, got %v", c.want, err)
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "clients", "zeta", ManifestFile), good)
	write(filepath.Join(root, "clients", "zeta", "Dockerfile"), "FROM scratch\n")
	write(filepath.Join(root, "clients", "alpha", ManifestFile), `{"language":"A","roles":{"bogus":{"command":["a"]}}}`)
	write(filepath.Join(root, "clients", "nodocker", ManifestFile), good)
	write(filepath.Join(root, "clients", "README.md"), "docs")
	os.MkdirAll(filepath.Join(root, "clients", "template-without-manifest"), 0o755)
	write(filepath.Join(root, "outside", "mine", ManifestFile), good)
	write(filepath.Join(root, "outside", "mine", "Dockerfile"), "FROM scratch\n")

	impls, err := Discover(filepath.Join(root, "clients"), SplitList(filepath.Join(root, "outside", "mine")+"::"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range impls {
		names = append(names, i.Name)
	}
	if want := []string{"reference", "alpha", "mine", "nodocker", "zeta"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("names %v, want %v", names, want)
	}
	if impls[1].Err == nil || !strings.Contains(impls[1].Err.Error(), "unknown role") {
		t.Fatalf("broken manifest must be kept with its error, got %v", impls[1].Err)
	}
	if impls[3].Err == nil || !strings.Contains(impls[3].Err.Error(), "MANIFEST-10") {
		t.Fatalf("missing Dockerfile must be reported, got %v", impls[3].Err)
	}
	if impls[2].Err != nil || impls[4].Err != nil || !impls[4].Supports(RUDPSender) {
		t.Fatalf("good implementations must load: %v %v", impls[2].Err, impls[4].Err)
	}
	// A second folder with an existing name is an error, not a silent pick.
	write(filepath.Join(root, "other", "zeta", ManifestFile), good)
	if _, err := Discover(filepath.Join(root, "clients"), []string{filepath.Join(root, "other", "zeta")}); err == nil {
		t.Fatal("duplicate names must be rejected")
	}
}

func TestReferenceSupportsEverything(t *testing.T) {
	ref := Reference()
	for _, r := range Roles {
		if !ref.Supports(r) {
			t.Errorf("reference lacks %s", r)
		}
		if err := validateRole(r, ref.Manifest.Roles[r]); err != nil {
			t.Errorf("reference manifest invalid: %v", err)
		}
	}
	if !ref.HasFeature(RUDPSender, SACK) || !ref.HasFeature(HelloServer, Challenge) {
		t.Error("reference must declare sack and challenge")
	}
}

// FuzzParseManifest: any bytes give a manifest or an error, never a panic,
// and a manifest that parses expands without unknown placeholders left.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"language":"X","roles":{"hello-client":{"command":["{{","}}","{host"]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest("fuzz", data)
		if err != nil {
			return
		}
		for r, rc := range m.Roles {
			vars := map[string]string{}
			for _, p := range Placeholders[r] {
				vars[p] = "V"
			}
			if _, err := rc.Expand(vars); err != nil {
				t.Fatalf("valid manifest failed to expand: %v", err)
			}
		}
	})
}
