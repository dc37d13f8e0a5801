package images

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHashDirFollowsContentAndDockerignore(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Dockerfile", "FROM scratch\n")
	write("src/main.c", "int main(){}\n")
	write(".dockerignore", "target/\n**/*.o\n")
	h1, err := HashDir(dir, "base:1")
	if err != nil {
		t.Fatal(err)
	}
	write("target/release/big", "artifact")
	write("src/x.o", "object")
	if h2, _ := HashDir(dir, "base:1"); h2 != h1 {
		t.Fatal("files excluded by .dockerignore must not change the hash")
	}
	if h3, _ := HashDir(dir, "base:2"); h3 == h1 {
		t.Fatal("a different base image must change the hash")
	}
	write("src/main.c", "int main(){return 1;}\n")
	if h4, _ := HashDir(dir, "base:1"); h4 == h1 {
		t.Fatal("a changed source file must change the hash")
	}
	os.Chmod(filepath.Join(dir, "src/main.c"), 0o755)
	h5, _ := HashDir(dir, "base:1")
	write("src/main.c", "int main(){return 1;}\n")
	os.Chmod(filepath.Join(dir, "src/main.c"), 0o644)
	if h6, _ := HashDir(dir, "base:1"); h6 == h5 {
		t.Fatal("the executable bit must change the hash")
	}
}

func TestLoadToolchain(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "toolchains"), 0o755)
	os.WriteFile(filepath.Join(dir, "toolchains", "x.list"), []byte("# comment\n# suite: trixie\nb\na # inline\na\n"), 0o644)
	tc, err := LoadToolchain(dir, "x")
	if err != nil {
		t.Fatal(err)
	}
	if tc.Suite != "trixie" || len(tc.Packages) != 2 || tc.Packages[0] != "a" || tc.Tag() != "interop/base-x:"+tc.Hash {
		t.Fatalf("%+v", tc)
	}
	if _, err := LoadToolchain(dir, "missing"); err == nil {
		t.Fatal("a missing list must be an error")
	}
	if _, err := LoadToolchain(dir, "../x"); err == nil {
		t.Fatal("a path as toolchain name must be rejected")
	}
}
