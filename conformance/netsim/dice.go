package netsim

// Decisions are drawn from a counter-based generator rather than a
// sequential PRNG: the value for (seed, flow, direction, packet index,
// purpose, k) is a hash of those numbers. So a decision depends only on
// which packet it is about, not on how many draws came before: the same
// seed and packet sequence give the same decisions, and turning one
// impairment on does not reshuffle the others (packet 17 is still lost
// when duplication is added).

// Purposes: one stream per kind of decision.
const (
	streamLoss uint64 = iota + 1
	streamBurstMove
	streamBurstLoss
	streamDup
	streamCorrupt
	streamCorruptPart
	streamCorruptBits
	streamReorder
	streamReorderDepth
	streamJitter
	streamSegment
)

// mix is the SplitMix64 finaliser: a bijection with good avalanche.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

const golden = 0x9e3779b97f4a7c15

// dice yields the draws for one packet.
type dice uint64

func newDice(seed uint64, flow int, d Dir, idx uint64) dice {
	h := mix(seed + golden)
	h = mix(h ^ (uint64(flow)+1)*golden)
	h = mix(h ^ (uint64(d)+1)*0xd1b54a32d192ed03)
	return dice(mix(h ^ (idx+1)*0x8cb92ba72f3d8dd7))
}

// u64 is draw number k of the given stream.
func (c dice) u64(stream, k uint64) uint64 {
	return mix(uint64(c) ^ mix(stream*golden+k))
}

// float is a uniform draw in [0, 1).
func (c dice) float(stream, k uint64) float64 {
	return float64(c.u64(stream, k)>>11) / (1 << 53)
}

// chance reports whether an event of probability p happens.
func (c dice) chance(stream, k uint64, p float64) bool {
	return p > 0 && (p >= 1 || c.float(stream, k) < p)
}

// intn is a uniform draw in [0, n); n must be positive.
func (c dice) intn(stream, k uint64, n int) int {
	return int(c.u64(stream, k) % uint64(n))
}
