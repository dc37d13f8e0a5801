// Package registry discovers implementations: the folders under clients/
// and those named in INTEROP_IMPLS, each with an interop.json manifest
// (spec/manifest.md), plus the built-in Go reference. Discovery is
// deterministic and sorted, because every Ginkgo process builds the spec tree
// on its own and all must agree.
package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// ManifestFile is the manifest's fixed name (MANIFEST-1).
const ManifestFile = "interop.json"

// ReferenceName is reserved for the Go reference (MANIFEST-2).
const ReferenceName = "reference"

// Role is one of the four programs an implementation may provide (MANIFEST-4).
type Role string

const (
	HelloClient  Role = "hello-client"
	HelloServer  Role = "hello-server"
	RUDPSender   Role = "rudp-sender"
	RUDPReceiver Role = "rudp-receiver"
)

// Roles lists every role in a fixed order.
var Roles = []Role{HelloClient, HelloServer, RUDPSender, RUDPReceiver}

// Feature is an optional extension of a role (MANIFEST-8).
type Feature string

const (
	SACK      Feature = "sack"
	Challenge Feature = "challenge"
)

// featureRoles says which roles may declare which features.
var featureRoles = map[Feature][]Role{
	SACK:      {RUDPSender, RUDPReceiver},
	Challenge: {HelloServer},
}

// Manifest is the decoded interop.json.
type Manifest struct {
	Schema     string              `json:"$schema,omitempty"`
	Name       string              `json:"name,omitempty"`
	Language   string              `json:"language"`
	Toolchain  string              `json:"toolchain,omitempty"`
	Dockerfile string              `json:"dockerfile,omitempty"`
	Authors    []string            `json:"authors,omitempty"`
	Roles      map[Role]RoleConfig `json:"roles"`
}

// RoleConfig is how to start one role (MANIFEST-5..MANIFEST-12).
type RoleConfig struct {
	Command        []string             `json:"command"`
	Features       map[Feature][]string `json:"features,omitempty"`
	NeedsIP        bool                 `json:"needs_ip,omitempty"`
	Ready          *Ready               `json:"ready,omitempty"`
	StartupSeconds int                  `json:"startup_seconds,omitempty"`
}

// Ready is either "port" (watch the socket table) or {"log": REGEX}.
type Ready struct {
	Log *regexp.Regexp
}

// UnmarshalJSON accepts "port" or {"log": "REGEX"} (MANIFEST-12).
func (r *Ready) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != "port" {
			return fmt.Errorf(`ready must be "port" or {"log": "REGEX"}, not %q`, s)
		}
		return nil
	}
	var o struct {
		Log string `json:"log"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil || o.Log == "" {
		return fmt.Errorf(`ready must be "port" or {"log": "REGEX"}`)
	}
	re, err := regexp.Compile(o.Log)
	if err != nil {
		return fmt.Errorf("ready.log: %w", err)
	}
	r.Log = re
	return nil
}

// MarshalJSON writes the form UnmarshalJSON reads.
func (r Ready) MarshalJSON() ([]byte, error) {
	if r.Log == nil {
		return json.Marshal("port")
	}
	return json.Marshal(map[string]string{"log": r.Log.String()})
}

// Impl is one discovered implementation.
type Impl struct {
	Name     string
	Dir      string // absolute folder; empty for the built-in reference
	Manifest Manifest
	// Err is set when the manifest is broken: the implementation is still
	// listed (so its cells show the reason) but never built or run.
	Err error
}

// Supports reports whether the implementation declares the role.
func (i Impl) Supports(r Role) bool { _, ok := i.Manifest.Roles[r]; return ok && i.Err == nil }

// HasFeature reports whether the role declares the feature.
func (i Impl) HasFeature(r Role, f Feature) bool {
	rc, ok := i.Manifest.Roles[r]
	if !ok {
		return false
	}
	_, ok = rc.Features[f]
	return ok
}

var (
	nameRE        = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	placeholderRE = regexp.MustCompile(`\{[a-z_]*\}`)
)

// Placeholders lists, per role, the placeholders a command may use (MANIFEST-6).
var Placeholders = map[Role][]string{
	HelloClient:  {"host", "port", "lang"},
	HelloServer:  {"port", "lang"},
	RUDPSender:   {"host", "port", "file", "lang"},
	RUDPReceiver: {"port", "outdir", "timeout", "lang"},
}

// ParseManifest decodes and validates one manifest; name is the folder name.
// Every error names the requirement it breaks.
func ParseManifest(name string, data []byte) (Manifest, error) {
	var m Manifest
	if !nameRE.MatchString(name) {
		return m, fmt.Errorf("MANIFEST-2: folder name %q must match %s", name, nameRE)
	}
	if name == ReferenceName {
		return m, fmt.Errorf("MANIFEST-2: the name %q is reserved for the Go reference", name)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("MANIFEST-1: %s is not a valid manifest: %w", ManifestFile, err)
	}
	if dec.More() {
		return m, fmt.Errorf("MANIFEST-1: trailing data after the JSON object")
	}
	if m.Name != "" && m.Name != name {
		return m, fmt.Errorf("MANIFEST-2: \"name\" is %q but the folder is %q", m.Name, name)
	}
	m.Name = name
	if l := len([]rune(m.Language)); l == 0 || l > 40 || strings.ContainsAny(m.Language, "\n\r|") {
		return m, fmt.Errorf("MANIFEST-3: \"language\" must be 1-40 characters without newline or '|', got %q", m.Language)
	}
	if m.Toolchain != "" && !nameRE.MatchString(m.Toolchain) {
		return m, fmt.Errorf("MANIFEST-9: toolchain %q must match %s", m.Toolchain, nameRE)
	}
	if m.Dockerfile == "" {
		m.Dockerfile = "Dockerfile"
	}
	if filepath.IsAbs(m.Dockerfile) || strings.HasPrefix(filepath.Clean(m.Dockerfile), "..") {
		return m, fmt.Errorf("MANIFEST-10: dockerfile %q must be a relative path inside the folder", m.Dockerfile)
	}
	if len(m.Roles) == 0 {
		return m, fmt.Errorf("MANIFEST-4: \"roles\" must declare at least one of %v", Roles)
	}
	for r, rc := range m.Roles {
		if _, ok := Placeholders[r]; !ok {
			return m, fmt.Errorf("MANIFEST-4: unknown role %q (roles are %v)", r, Roles)
		}
		if err := validateRole(r, rc); err != nil {
			return m, err
		}
	}
	return m, nil
}

func validateRole(r Role, rc RoleConfig) error {
	if len(rc.Command) == 0 || rc.Command[0] == "" {
		return fmt.Errorf("MANIFEST-5: roles.%s.command must be a non-empty argument vector", r)
	}
	check := func(where string, args []string) error {
		for i, a := range args {
			if err := checkPlaceholders(r, a); err != nil {
				return fmt.Errorf("MANIFEST-6: %s in roles.%s.%s[%d]", err, r, where, i)
			}
		}
		return nil
	}
	if err := check("command", rc.Command); err != nil {
		return err
	}
	for f, args := range rc.Features {
		allowed := false
		for _, fr := range featureRoles[f] {
			allowed = allowed || fr == r
		}
		if !allowed {
			return fmt.Errorf("MANIFEST-8: feature %q is not known for role %s", f, r)
		}
		if err := check("features."+string(f), args); err != nil {
			return err
		}
	}
	if rc.NeedsIP && r != HelloClient && r != RUDPSender {
		return fmt.Errorf("MANIFEST-7: needs_ip only applies to hello-client and rudp-sender, not %s", r)
	}
	if rc.Ready != nil && r != HelloServer && r != RUDPReceiver {
		return fmt.Errorf("MANIFEST-12: ready only applies to hello-server and rudp-receiver, not %s", r)
	}
	if rc.StartupSeconds < 0 || rc.StartupSeconds > 60 {
		return fmt.Errorf("MANIFEST-12: roles.%s.startup_seconds must be 1..60", r)
	}
	return nil
}

func checkPlaceholders(r Role, arg string) error {
	s := strings.NewReplacer("{{", "", "}}", "").Replace(arg)
	for _, p := range placeholderRE.FindAllString(s, -1) {
		name := strings.Trim(p, "{}")
		ok := false
		for _, allowed := range Placeholders[r] {
			ok = ok || allowed == name
		}
		if !ok {
			return fmt.Errorf("unknown placeholder %s (allowed for %s: %s)", p, r, strings.Join(Placeholders[r], ", "))
		}
	}
	return nil
}

// Expand substitutes placeholders in the role's command plus the arguments
// of the requested features. Values are inserted literally into single
// arguments; nothing is ever passed through a shell (MANIFEST-5).
func (rc RoleConfig) Expand(vars map[string]string, features ...Feature) ([]string, error) {
	args := append([]string{}, rc.Command...)
	for _, f := range features {
		extra, ok := rc.Features[f]
		if !ok {
			return nil, fmt.Errorf("feature %s is not declared", f)
		}
		args = append(args, extra...)
	}
	out := make([]string, len(args))
	for i, a := range args {
		var b strings.Builder
		for j := 0; j < len(a); j++ {
			switch {
			case strings.HasPrefix(a[j:], "{{"):
				b.WriteByte('{')
				j++
			case strings.HasPrefix(a[j:], "}}"):
				b.WriteByte('}')
				j++
			case a[j] == '{':
				end := strings.IndexByte(a[j:], '}')
				if end < 0 {
					b.WriteByte('{')
					continue
				}
				name := a[j+1 : j+end]
				v, ok := vars[name]
				if !ok || !placeholderRE.MatchString(a[j:j+end+1]) {
					b.WriteString(a[j : j+end+1])
				} else {
					b.WriteString(v)
				}
				j += end
			default:
				b.WriteByte(a[j])
			}
		}
		out[i] = b.String()
	}
	return out, nil
}

// Discover lists the implementations under clientsDir plus the extra
// folders (INTEROP_IMPLS), sorted by name, with the reference first. A
// broken manifest is returned as an Impl with Err set, never dropped.
func Discover(clientsDir string, extra []string) ([]Impl, error) {
	var dirs []string
	entries, err := os.ReadDir(clientsDir)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("discover %s: %w", clientsDir, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		d := filepath.Join(clientsDir, e.Name())
		if _, err := os.Stat(filepath.Join(d, ManifestFile)); err != nil {
			continue // a folder without a manifest is documentation or a template
		}
		dirs = append(dirs, d)
	}
	dirs = append(dirs, extra...)
	seen := map[string]string{}
	impls := []Impl{Reference()}
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		name := filepath.Base(abs)
		if prev, dup := seen[name]; dup {
			if prev == abs {
				continue
			}
			return nil, fmt.Errorf("two implementations are named %q: %s and %s (folder names must be unique)", name, prev, abs)
		}
		seen[name] = abs
		impls = append(impls, Load(abs))
	}
	sort.SliceStable(impls[1:], func(a, b int) bool { return impls[1+a].Name < impls[1+b].Name })
	return impls, nil
}

// Load reads and validates one implementation folder.
func Load(dir string) Impl {
	name := filepath.Base(dir)
	impl := Impl{Name: name, Dir: dir}
	path := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(path)
	if err != nil {
		impl.Err = fmt.Errorf("%s: MANIFEST-1: %w", path, err)
		return impl
	}
	m, err := ParseManifest(name, data)
	impl.Manifest = m
	if err != nil {
		impl.Err = fmt.Errorf("%s: %w", path, err)
		return impl
	}
	if _, err := os.Stat(filepath.Join(dir, m.Dockerfile)); err != nil {
		impl.Err = fmt.Errorf("%s: MANIFEST-10: %s not found in %s", path, m.Dockerfile, dir)
	}
	return impl
}

// SplitList parses INTEROP_IMPLS (colon-separated folders, empty entries ignored).
func SplitList(s string) []string {
	var out []string
	for _, p := range filepath.SplitList(s) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
