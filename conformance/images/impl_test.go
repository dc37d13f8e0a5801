package images

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

func TestStageImages(t *testing.T) {
	log := `Step 1/13 : ARG BASE=interop/base-rust
Step 2/13 : FROM ${BASE} AS build
 ---> c3dc4bf3f0d0
Step 3/13 : WORKDIR /src
 ---> Running in bb3769f8583b
Removing intermediate container bb3769f8583b
 ---> 49007e4d45a7
Step 7/13 : RUN cargo build --release --offline
 ---> Running in 7f6b5a95c5ab
   Compiling interop v0.1.0 (/src)
 ---> 46793a26e059
Step 8/13 : FROM ${BASE} AS test
 ---> c3dc4bf3f0d0
Step 9/13 : FROM ${BASE}
 ---> c3dc4bf3f0d0
Step 10/13 : COPY --from=build /src/target/release/hello-client /app/bin/
 ---> acabdbebceae
Successfully built acabdbebceae
Successfully tagged interop/impl-rust:6041abdb8b649018
`
	got := StageImages(strings.NewReader(log))
	want := []string{"46793a26e059", "c3dc4bf3f0d0"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("stage images %v, want %v (the last of each stage but the final one)", got, want)
	}
	if got := StageImages(strings.NewReader("Step 1/2 : FROM scratch\n ---> \nStep 2/2 : COPY a /a\n ---> 0123456789ab\n")); len(got) != 0 {
		t.Fatalf("a single-stage build has no stage images to remove, got %v", got)
	}
}

// A real multi-stage build leaves no dangling stage image behind.
func TestBuildImageRemovesItsStageImages(t *testing.T) {
	if exec.Command("docker", "info").Run() != nil {
		t.Skip("no Docker Engine")
	}
	t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch AS build\nCOPY a /a\nCOPY b /b\nFROM scratch\nCOPY --from=build /a /c\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a"), []byte(t.Name()+time.Now().String()), 0o644) // a fresh image every run
	os.WriteFile(filepath.Join(dir, "b"), []byte("b"), 0o644)
	logPath := filepath.Join(t.TempDir(), "build.log")
	tag, built, err := BuildImage(context.Background(), Build{Name: "stages-test", Dir: dir, Dockerfile: "Dockerfile"}, logPath, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Command("docker", "rmi", tag).Run()
	if !built {
		t.Fatalf("%s existed already", tag)
	}
	log, _ := os.ReadFile(logPath)
	stages := StageImages(strings.NewReader(string(log)))
	if len(stages) != 1 {
		t.Fatalf("want the build stage's image in the log, got %v:\n%s", stages, log)
	}
	if ImageExists(context.Background(), stages[0]) {
		t.Errorf("the build stage's image %s is still there (dangling)", stages[0])
	}
	if !ImageExists(context.Background(), tag) {
		t.Errorf("the final image %s was removed too", tag)
	}
}
