//go:build !linux

package progress

import (
	"os"
	"strconv"
)

// termWidth is $COLUMNS where the terminal cannot be asked portably.
func termWidth(*os.File) int {
	n, _ := strconv.Atoi(os.Getenv("COLUMNS"))
	return n
}
