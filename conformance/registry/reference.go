package registry

// Paths of the static binaries inside the reference image (FROM scratch).
const (
	ReferenceHelloBin = "/hello"
	ReferenceRUDPBin  = "/rudp"
)

// Reference is the built-in Go reference implementation, taking part in all
// four roles with every feature. Its image is built from reference/cmd by the
// images package, not from a Dockerfile under clients/.
func Reference() Impl {
	return Impl{
		Name: ReferenceName,
		Manifest: Manifest{
			Name:     ReferenceName,
			Language: "Go",
			Roles: map[Role]RoleConfig{
				HelloClient: {Command: []string{ReferenceHelloBin, "client", "{host}", "{port}"}},
				HelloServer: {
					Command:  []string{ReferenceHelloBin, "server", "{port}"},
					Features: map[Feature][]string{Challenge: {"--challenge"}},
				},
				RUDPSender: {
					Command:  []string{ReferenceRUDPBin, "send", "-a", "{host}", "-p", "{port}", "-f", "{file}"},
					Features: map[Feature][]string{SACK: {"-k"}},
				},
				RUDPReceiver: {
					Command:  []string{ReferenceRUDPBin, "receive", "-p", "{port}", "-o", "{outdir}", "-t", "{timeout}"},
					Features: map[Feature][]string{SACK: {"-k"}},
				},
			},
		},
	}
}
