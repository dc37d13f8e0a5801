// Command genvectors writes spec/vectors/datagrams.json and
// spec/vectors/receiver.json from reference/rudp/internal/vectors.
//
//	go run ./reference/rudp/internal/genvectors [-dir spec/vectors]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/interop-suite/interop/reference/rudp/internal/vectors"
)

func main() {
	dir := flag.String("dir", "spec/vectors", "output directory")
	flag.Parse()
	d, r, err := vectors.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "genvectors:", err)
		os.Exit(1)
	}
	for name, b := range map[string][]byte{"datagrams.json": d, "receiver.json": r} {
		if err := os.WriteFile(filepath.Join(*dir, name), b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "genvectors:", err)
			os.Exit(1)
		}
	}
}
