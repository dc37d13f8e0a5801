package hello

import "testing"

func TestFormat(t *testing.T) {
	t.Parallel()
	if got := FormatHello("C++"); got != "Hello in C++\n" { // HELLO-1, HELLO-3
		t.Errorf("FormatHello = %q", got)
	}
	if got := FormatGoodbye("C#"); got != "Goodbye in C#\n" { // HELLO-1, HELLO-4
		t.Errorf("FormatGoodbye = %q", got)
	}
}

// TestChallengeReply covers HELLO-20, including messages that do not match
// "Hello in <X>".
func TestChallengeReply(t *testing.T) {
	t.Parallel()
	tests := []struct{ msg, want string }{
		{"Hello in Rust\n", "Goodbye Rust from Go\n"},
		{"Hello in Rust", "Goodbye Rust from Go\n"},
		{"Hello in Rust\r\n", "Goodbye Rust from Go\n"},
		{"  Hello   in\tRust  \n", "Goodbye Rust from Go\n"},
		{"hello IN rust\n", "Goodbye rust from Go\n"},
		{"Hello in Python (Jupyter)\n", "Goodbye Python (Jupyter) from Go\n"},
		{"Hello in C\x00\x00\x00", "Goodbye C from Go\n"},
		{"Hello in Objective  C\n", "Goodbye Objective C from Go\n"},
		// Not "Hello in <X>": the whole message, so the student sees it.
		{"Hi from Ruby\n", "Goodbye Hi from Ruby from Go\n"},
		{"Hello in\n", "Goodbye Hello in from Go\n"},
		{"Hello\n", "Goodbye Hello from Go\n"},
		{"Hello from Lua", "Goodbye Hello from Lua from Go\n"},
		// Whatever it contains, the reply is one line.
		{"Hello in Perl\nsecond line\n", "Goodbye Perl second line from Go\n"},
		{"\n", "Goodbye from Go\n"},
		{"", "Goodbye from Go\n"},
	}
	for _, tc := range tests {
		if got := ChallengeReply(tc.msg, "Go"); got != tc.want {
			t.Errorf("ChallengeReply(%q, Go) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{"Hello in Go\n", "Hello in Go"},
		{"Hello in Go\r\n", "Hello in Go"},
		{" \tHello in Go \r\n", "Hello in Go"},
		{"Hello in C\x00\x00", "Hello in C"},
		{"Hello  in Go", "Hello  in Go"}, // inner whitespace is kept
		{"\n", ""},
	}
	for _, tc := range tests {
		if got := Text(tc.raw); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestStrings(t *testing.T) {
	t.Parallel()
	for v, want := range map[interface{ String() string }]string{
		ByNewline: "newline", ByClose: "close", ByIdleGap: "idle gap", ByReset: "reset", Termination(0): "Termination(0)",
		Strict: "strict", Lenient: "lenient", Mismatch: "mismatch", Verdict(9): "Verdict(9)",
		HalfCloseDelayed: "delayed", HalfCloseNever: "never", HalfCloseNow: "now", HalfClose(5): "HalfClose(5)",
	} {
		if got := v.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
	var h HalfClose
	for _, name := range []string{"now", "never", "delayed"} {
		if err := h.Set(name); err != nil || h.String() != name {
			t.Errorf("Set(%q): %v, %v", name, h, err)
		}
	}
	if err := h.Set("later"); err == nil {
		t.Error("Set(later) succeeded")
	}
}
