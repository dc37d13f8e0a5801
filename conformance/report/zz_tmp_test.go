package report_test

import (
	"os"
	"testing"

	"github.com/interop-suite/interop/conformance/report"
)

func BenchmarkZZDump(b *testing.B) {
	run, dir := fullMatrix(b)
	os.RemoveAll("/tmp/rep/big")
	os.MkdirAll("/tmp/rep/big", 0o755)
	if err := report.Render(run, "/tmp/rep/big", report.Options{SpecDir: specDir, ArtifactsDir: dir}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
	}
}
