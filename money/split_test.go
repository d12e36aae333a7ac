package money_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/tiski/tiski/money"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name    string
		minor   int64
		weights []int64
		want    []int64
	}{
		{"thirds", 100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		{"negative thirds", -100, []int64{1, 1, 1}, []int64{-34, -33, -33}},
		{"quarters of 101", 101, []int64{1, 1, 1, 1}, []int64{26, 25, 25, 25}},
		{"one cent two ways", 1, []int64{1, 1}, []int64{1, 0}},
		{"minus one cent two ways", -1, []int64{1, 1}, []int64{-1, 0}},
		// 33.33 / 66.67: remainders 1/3 and 2/3, so the second part gets the cent.
		{"one to two", 100, []int64{1, 2}, []int64{33, 67}},
		// 1.4 / 2.1 / 3.5: floors 1,2,3 leave one unit for the .5.
		{"largest remainder wins", 7, []int64{2, 3, 5}, []int64{1, 2, 4}},
		{"zero weights get nothing", 5, []int64{0, 1, 0, 1}, []int64{0, 3, 0, 2}},
		{"zero amount", 0, []int64{1, 2}, []int64{0, 0}},
		{"exact", 900, []int64{2, 3, 4}, []int64{200, 300, 400}},
		{"single part", 12345, []int64{7}, []int64{12345}},
		{"min int64 whole", math.MinInt64, []int64{1}, []int64{math.MinInt64}},
		{"min int64 halves", math.MinInt64, []int64{1, 1}, []int64{-4611686018427387904, -4611686018427387904}},
		{"max int64 halves", math.MaxInt64, []int64{1, 1}, []int64{4611686018427387904, 4611686018427387903}},
		{"max weight", 100, []int64{math.MaxInt64}, []int64{100}},
		// 100·(2^63-2)/(2^63-1) is just under 100; its remainder dwarfs the other's.
		{"huge weights", 100, []int64{math.MaxInt64 - 1, 1}, []int64{100, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := money.Money{Minor: tt.minor, Currency: "SEK"}.Split(tt.weights)
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) != len(tt.want) {
				t.Fatalf("got %d parts, want %d", len(parts), len(tt.want))
			}
			for i, p := range parts {
				if p != (money.Money{Minor: tt.want[i], Currency: "SEK"}) {
					t.Errorf("part %d = %+v, want %d SEK", i, p, tt.want[i])
				}
			}
		})
	}
}

func TestSplitRefuses(t *testing.T) {
	for _, weights := range [][]int64{
		nil,
		{},
		{0},
		{0, 0, 0},
		{-1, 2},
		{math.MaxInt64, 1},
		{math.MaxInt64 / 2, math.MaxInt64/2 + 2},
	} {
		_, err := eur(100).Split(weights)
		wantInvalid(t, err, "weights")
	}
}

// FuzzSplit checks the rules every split must keep: parts add up to the
// whole, each part is its exact share rounded down or up by less than one
// unit, zero weights get zero, and all parts share the amount's sign.
// The weights come from the bytes (two per weight) plus one wide weight,
// so the fuzzer explores both many small and a few huge weights.
func FuzzSplit(f *testing.F) {
	f.Add(int64(100), []byte{0, 1, 0, 1, 0, 1}, int64(0))
	f.Add(int64(-100), []byte{0, 1, 0, 1, 0, 1}, int64(0))
	f.Add(int64(7), []byte{0, 2, 0, 3, 0, 5}, int64(0))
	f.Add(int64(1), []byte{0, 0, 0, 1}, int64(1))
	f.Add(int64(math.MinInt64), []byte{0, 1}, int64(1))
	f.Add(int64(math.MaxInt64), []byte{0xff, 0xff, 0x12, 0x34}, int64(math.MaxInt64/3))
	f.Add(int64(-99), []byte{}, int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, minor int64, raw []byte, wide int64) {
		weights := []int64{wide}
		for i := 0; i+1 < len(raw); i += 2 {
			weights = append(weights, int64(raw[i])<<8|int64(raw[i+1]))
		}
		whole := money.Money{Minor: minor, Currency: "EUR"}
		parts, err := whole.Split(weights)

		total := new(big.Int)
		for _, w := range weights {
			total.Add(total, big.NewInt(w))
		}
		validWeights := wide >= 0 && total.Sign() > 0 && total.IsInt64()
		if err != nil {
			if validWeights {
				t.Fatalf("Split(%d, %v) refused valid weights: %v", minor, weights, err)
			}
			return
		}
		if !validWeights {
			t.Fatalf("Split(%d, %v) accepted invalid weights", minor, weights)
		}
		if len(parts) != len(weights) {
			t.Fatalf("got %d parts for %d weights", len(parts), len(weights))
		}

		sum := new(big.Int)
		for i, p := range parts {
			if p.Currency != "EUR" {
				t.Fatalf("part %d has currency %q", i, p.Currency)
			}
			sum.Add(sum, big.NewInt(p.Minor))
			if (minor > 0 && p.Minor < 0) || (minor < 0 && p.Minor > 0) {
				t.Fatalf("part %d = %d has the wrong sign for %d", i, p.Minor, minor)
			}
			if weights[i] == 0 && p.Minor != 0 {
				t.Fatalf("zero weight %d got %d", i, p.Minor)
			}
			// |part·W − minor·w| < W: the part is within one unit of its exact share.
			diff := new(big.Int).Mul(big.NewInt(p.Minor), total)
			diff.Sub(diff, new(big.Int).Mul(big.NewInt(minor), big.NewInt(weights[i])))
			if diff.CmpAbs(total) >= 0 {
				t.Fatalf("part %d = %d is a unit or more off its share %d·%d/%s", i, p.Minor, minor, weights[i], total)
			}
		}
		if !sum.IsInt64() || sum.Int64() != minor {
			t.Fatalf("Split(%d, %v) parts add up to %s", minor, weights, sum)
		}
	})
}
