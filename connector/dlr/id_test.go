package dlr

import (
	"math/big"
	"strings"
	"testing"
)

func TestIDRuleKeyMatches(t *testing.T) {
	tests := []struct {
		name        string
		rule        IDRule
		resp, rcpt  string
		wantKey     string
		wantNoMatch bool
	}{
		{"hex resp, decimal receipt", IDRule{Resp: IDHex, Receipt: IDDecimal}, "00012D687", "1234567", "1234567", false},
		{"lower vs upper hex", IDRule{Resp: IDHex, Receipt: IDHex}, "12d687", "12D687", "1234567", false},
		{"decimal resp, hex receipt", IDRule{Resp: IDDecimal, Receipt: IDHex}, "1234567", "12d687", "1234567", false},
		{"zero-padded decimal", IDRule{Resp: IDDecimal, Receipt: IDDecimal}, "0001234567", "1234567", "1234567", false},
		{"zero id", IDRule{Resp: IDDecimal, Receipt: IDHex}, "0000", "0", "0", false},
		{"raw trims spaces and NULs", IDRule{}, " abc-123\x00", "abc-123", "abc-123", false},
		{"raw keeps case", IDRule{Resp: IDRaw, Receipt: IDRaw}, "AbC", "abc", "", true},
		{"raw keeps zeros", IDRule{}, "0001", "1", "", true},
		{"uuid case", IDRule{Resp: IDUUID, Receipt: IDUUID},
			"3F2A9C1E-7B4D-4E8A-9F00-1C2D3E4F5A6B", "3f2a9c1e-7b4d-4e8a-9f00-1c2d3e4f5a6b", "3f2a9c1e-7b4d-4e8a-9f00-1c2d3e4f5a6b", false},
		{"uuid without hyphens, in braces", IDRule{Resp: IDUUID, Receipt: IDUUID},
			"{3F2A9C1E-7B4D-4E8A-9F00-1C2D3E4F5A6B}", "3f2a9c1e7b4d4e8a9f001c2d3e4f5a6b", "3f2a9c1e-7b4d-4e8a-9f00-1c2d3e4f5a6b", false},
		{"64-char hex", IDRule{Resp: IDHex, Receipt: IDHex},
			strings.Repeat("F", 64), "00" + strings.Repeat("f", 64), hexToDec(strings.Repeat("f", 64)), false},
		{"max uint64 hex vs decimal", IDRule{Resp: IDHex, Receipt: IDDecimal}, "FFFFFFFFFFFFFFFF", "18446744073709551615", "18446744073709551615", false},
		{"just above uint64", IDRule{Resp: IDHex, Receipt: IDDecimal}, "10000000000000000", "18446744073709551616", "18446744073709551616", false},
		{"format names ignore case", IDRule{Resp: "HEX", Receipt: "Decimal"}, "ff", "255", "255", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.rule.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			a, err := tt.rule.Key(tt.resp, false)
			if err != nil {
				t.Fatalf("Key(resp): %v", err)
			}
			b, err := tt.rule.Key(tt.rcpt, true)
			if err != nil {
				t.Fatalf("Key(receipt): %v", err)
			}
			if tt.wantNoMatch {
				if a == b {
					t.Errorf("keys match: %q", a)
				}
				return
			}
			if a != b || a != tt.wantKey {
				t.Errorf("keys %q (resp) and %q (receipt), want %q", a, b, tt.wantKey)
			}
		})
	}
}

func hexToDec(h string) string {
	n, _ := new(big.Int).SetString(h, 16)
	return n.String()
}

func TestIDRuleKeyErrors(t *testing.T) {
	tests := []struct {
		rule        IDRule
		id          string
		fromReceipt bool
		want        string
	}{
		{IDRule{Receipt: IDHex}, "12G4", true, `receipt id "12G4": not hex`},
		{IDRule{Resp: IDDecimal}, "12a", false, `resp id "12a": not decimal`},
		{IDRule{Resp: IDDecimal}, "-12", false, `resp id "-12": not decimal`},
		{IDRule{Resp: IDHex}, "0x1f", false, `resp id "0x1f": not hex`},
		{IDRule{}, " \x00", true, `receipt id " \x00": empty`},
		{IDRule{Resp: IDDecimal}, "", false, `resp id "": empty`},
		{IDRule{Receipt: IDUUID}, "3f2a9c1e-7b4d-4e8a-9f00-1c2d3e4f5a6", true, `receipt id "3f2a9c1e-7b4d-4e8a-9f00-1c2d3e4f5a6": not a uuid`},
		{IDRule{Receipt: IDUUID}, "3f2a9c1e-7b4d-4e8a-9f00-1c2d3e4f5a6bb", true, `not a uuid`},
		{IDRule{Receipt: IDUUID}, "3g2a9c1e-7b4d-4e8a-9f00-1c2d3e4f5a6b", true, `not a uuid`},
		{IDRule{Receipt: "base64"}, "abc", true, `receipt id "abc": id format "base64" is not one of decimal, hex, raw, uuid`},
	}
	for _, tt := range tests {
		_, err := tt.rule.Key(tt.id, tt.fromReceipt)
		if err == nil {
			t.Errorf("%+v.Key(%q): no error", tt.rule, tt.id)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v.Key(%q) = %q, want %q", tt.rule, tt.id, err, tt.want)
		}
	}
}

func TestIDRuleValidate(t *testing.T) {
	for _, r := range []IDRule{{}, {Resp: IDHex, Receipt: IDDecimal}, {Resp: "RAW", Receipt: "UUID"}} {
		if err := r.Validate(); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
	tests := []struct {
		rule IDRule
		want string
	}{
		{IDRule{Resp: "hexadecimal"}, `resp: id format "hexadecimal" is not one of decimal, hex, raw, uuid`},
		{IDRule{Resp: IDHex, Receipt: "padded"}, `receipt: id format "padded"`},
	}
	for _, tt := range tests {
		err := tt.rule.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v.Validate() = %v, want %q", tt.rule, err, tt.want)
		}
	}
}

func FuzzKey(f *testing.F) {
	for _, s := range []string{"1234567", "00012D687", "12g4", " abc\x00", "3F2A9C1E-7B4D-4E8A-9F00-1C2D3E4F5A6B",
		"{3f2a9c1e7b4d4e8a9f001c2d3e4f5a6b}", strings.Repeat("f", 64), "", "0000"} {
		for _, format := range []string{"decimal", "hex", "raw", "uuid", "HEX", "", "bogus"} {
			f.Add(format, s)
		}
	}
	f.Fuzz(func(t *testing.T, format, id string) {
		fm := IDFormat(format)
		k, err := fm.Key(id)
		if err != nil {
			if !strings.Contains(err.Error(), "id ") {
				t.Fatalf("error %q does not name the id", err)
			}
			return
		}
		if k == "" {
			t.Fatal("empty key without error")
		}
		nf, _ := fm.norm()
		switch nf {
		case IDDecimal, IDHex:
			// The key is a decimal number without leading zeros, and is its
			// own decimal key.
			if len(k) > 1 && k[0] == '0' {
				t.Fatalf("key %q has leading zeros", k)
			}
			if k2, err := IDDecimal.Key(k); err != nil || k2 != k {
				t.Fatalf("key %q is not canonical decimal: %q, %v", k, k2, err)
			}
			base := 10
			if nf == IDHex {
				base = 16
			}
			want, ok := new(big.Int).SetString(trimID(id), base)
			if !ok || want.String() != k {
				t.Fatalf("Key(%q) = %q, want %v", id, k, want)
			}
		case IDUUID:
			if !canonicalUUID(k) {
				t.Fatalf("uuid key %q is not canonical", k)
			}
		case IDRaw:
			if k != trimID(k) {
				t.Fatalf("raw key %q is not trimmed", k)
			}
		}
		// Keys are stable.
		if k2, err := fm.Key(k); err != nil || k2 != k {
			if nf != IDHex { // a hex key is the decimal value: not a fixed point
				t.Fatalf("Key(Key(%q)) = %q, %v; want %q", id, k2, err, k)
			}
		}
	})
}
