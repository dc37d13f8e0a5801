// Package vectors builds the language-neutral test vectors in
// spec/vectors/ (their format is in spec/vectors/README.md).
//
// Every expected result here is written by hand from spec/rudp.md; none is
// computed by the reference implementation. The package formats datagrams
// and checksums itself (with hash/crc32), so the vectors test the codec and
// the receiver instead of restating them. Run
//
//	go run ./reference/rudp/internal/genvectors
//
// after changing this file; a test fails while spec/vectors/ is stale.
package vectors

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// Blob is a byte string in both forms: base64 for programs, and an
// escaped form for people (printable ASCII as itself, '\' as "\\",
// anything else as "\xHH").
type Blob struct {
	Base64  string `json:"base64"`
	Escaped string `json:"escaped"`
}

// NewBlob returns both forms of b.
func NewBlob(b []byte) Blob {
	return Blob{Base64: base64.StdEncoding.EncodeToString(b), Escaped: Escape(b)}
}

// Bytes decodes the base64 form.
func (b Blob) Bytes() ([]byte, error) { return base64.StdEncoding.DecodeString(b.Base64) }

// Escape renders b in the escaped form.
func Escape(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		switch {
		case c == '\\':
			s.WriteString(`\\`)
		case c >= 0x20 && c < 0x7f:
			s.WriteByte(c)
		default:
			fmt.Fprintf(&s, `\x%02x`, c)
		}
	}
	return s.String()
}

// Error classes of invalid datagrams (spec/vectors/README.md).
const (
	ClassTooLong   = "too_long"
	ClassMalformed = "malformed"
	ClassChecksum  = "checksum"
	ClassType      = "type"
	ClassSeqno     = "seqno"
	ClassSack      = "sack"
)

// DatagramFile is datagrams.json.
type DatagramFile struct {
	Format      string           `json:"format"`
	Description string           `json:"description"`
	Vectors     []DatagramVector `json:"vectors"`
}

// DatagramVector is one datagram and what parsing it must give.
type DatagramVector struct {
	Name         string   `json:"name"`
	Requirements []string `json:"requirements"`
	Datagram     Blob     `json:"datagram"`
	Valid        bool     `json:"valid"`
	// Canonical: encoding Packet must give Datagram exactly (only for
	// valid vectors).
	Canonical bool    `json:"canonical,omitempty"`
	Packet    *Packet `json:"packet,omitempty"`
	// Error is the class of the reason (only for invalid vectors). A
	// conforming receiver must drop the datagram; the class is a hint.
	Error string `json:"error,omitempty"`
	Note  string `json:"note,omitempty"`
}

// Packet is a decoded datagram. Seqnos are decimal strings: they may
// exceed the 2^53 that JSON numbers carry exactly in many languages.
type Packet struct {
	Type  string   `json:"type"`
	Seqno string   `json:"seqno"`
	Data  *Blob    `json:"data,omitempty"`  // start, data, end
	Sacks []string `json:"sacks,omitempty"` // sack
}

// ReceiverFile is receiver.json.
type ReceiverFile struct {
	Format      string           `json:"format"`
	Description string           `json:"description"`
	Vectors     []ReceiverVector `json:"vectors"`
}

// ReceiverVector is one receiver script.
type ReceiverVector struct {
	Name          string     `json:"name"`
	Requirements  []string   `json:"requirements"`
	Sack          bool       `json:"sack"`
	IdleTimeoutMs int64      `json:"idle_timeout_ms"`
	Steps         []Step     `json:"steps"`
	Transfers     []Transfer `json:"transfers"`
	Files         []File     `json:"files"`
	Note          string     `json:"note,omitempty"`
}

// Step is one datagram arriving and the one acknowledgement it must cause,
// or none (Ack null).
type Step struct {
	AtMs     int64  `json:"at_ms"`
	From     string `json:"from"`
	Datagram Blob   `json:"datagram"`
	Ack      *Blob  `json:"ack"`
	Note     string `json:"note,omitempty"`
}

// Transfer is one transfer the script creates, in the order they begin:
// the bytes delivered in order, and whether end was delivered.
type Transfer struct {
	From       string `json:"from"`
	StartSeqno string `json:"start_seqno"`
	Complete   bool   `json:"complete"`
	Output     Blob   `json:"output"`
}

// File is a file the reference receiver leaves in its output directory
// (names are the reference's choice; MANIFEST-11 leaves them free).
type File struct {
	Name    string `json:"name"`
	Content Blob   `json:"content"`
}

// Build returns the contents of datagrams.json and receiver.json.
func Build() (datagrams, receiver []byte, err error) {
	if datagrams, err = marshal(DatagramFile{
		Format:      "rudp-datagram-vectors/1",
		Description: "Datagrams and what parsing them must give (spec/rudp.md RUDP-1..RUDP-8, RUDP-30). See README.md.",
		Vectors:     datagramVectors(),
	}); err != nil {
		return nil, nil, err
	}
	if receiver, err = marshal(ReceiverFile{
		Format:      "rudp-receiver-vectors/1",
		Description: "Receiver scripts: datagrams in, the exact ack after each, and the transfers' output (spec/rudp.md RUDP-8..RUDP-18, RUDP-30, RUDP-31). See README.md.",
		Vectors:     receiverVectors(),
	}); err != nil {
		return nil, nil, err
	}
	return datagrams, receiver, nil
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sum appends the decimal CRC-32 of covered: a valid datagram (RUDP-4).
func sum(covered string) []byte {
	return []byte(covered + strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(covered))), 10))
}

// pkt is a valid start/data/end datagram.
func pkt(typ string, seq uint64, data string) []byte {
	return sum(typ + "|" + strconv.FormatUint(seq, 10) + "|" + data + "|")
}

// ack is a valid ack datagram.
func ack(seq uint64) []byte { return sum("ack|" + strconv.FormatUint(seq, 10) + "|") }

// sack is a valid sack datagram.
func sack(seq uint64, held ...uint64) []byte {
	s := make([]string, len(held))
	for i, h := range held {
		s[i] = strconv.FormatUint(h, 10)
	}
	return sum("sack|" + strconv.FormatUint(seq, 10) + ";" + strings.Join(s, ",") + "|")
}

func blobp(b []byte) *Blob {
	if b == nil {
		return nil
	}
	x := NewBlob(b)
	return &x
}
