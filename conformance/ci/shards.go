package ci

import (
	"strconv"
	"time"
)

// ShardCount picks how many runners a matrix needs so each shard's
// estimated wall time stays under target: the estimated total cell time,
// divided by the cells one runner runs at once, divided by the target,
// rounded up and kept within [1, most]. Estimates come from the previous
// run's measured times (cases.Costs), so the count follows the matrix as
// implementations and scenarios are added.
func ShardCount(total time.Duration, parallel int, target time.Duration, most int) int {
	if parallel < 1 {
		parallel = 1
	}
	if target <= 0 || most < 1 {
		return 1
	}
	perRunner := total / time.Duration(parallel)
	n := int((perRunner + target - 1) / target)
	return min(max(n, 1), most)
}

// ShardList is the GitHub Actions matrix of INTEROP_SHARD values:
// ["1/3","2/3","3/3"].
func ShardList(n int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, strconv.Itoa(i)+"/"+strconv.Itoa(n))
	}
	return out
}
