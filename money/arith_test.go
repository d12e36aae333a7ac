package money_test

import (
	"math"
	"testing"

	"github.com/govalues/decimal"
	"github.com/tiski/tiski/money"
)

func eur(minor int64) money.Money { return money.Money{Minor: minor, Currency: "EUR"} }

func TestAddSub(t *testing.T) {
	tests := []struct {
		name    string
		op      func(a, b money.Money) (money.Money, error)
		a, b    money.Money
		want    int64
		wantErr string // fault field, "" when the call must succeed
	}{
		{"add", money.Money.Add, eur(100), eur(250), 350, ""},
		{"add negative", money.Money.Add, eur(100), eur(-250), -150, ""},
		{"add extremes", money.Money.Add, eur(math.MaxInt64), eur(math.MinInt64), -1, ""},
		{"add to max", money.Money.Add, eur(math.MaxInt64 - 1), eur(1), math.MaxInt64, ""},
		{"add past max", money.Money.Add, eur(math.MaxInt64), eur(1), 0, "amount_minor"},
		{"add past min", money.Money.Add, eur(math.MinInt64), eur(-1), 0, "amount_minor"},
		{"add two mins", money.Money.Add, eur(math.MinInt64), eur(math.MinInt64), 0, "amount_minor"},
		{"add currencies", money.Money.Add, eur(1), money.Money{Minor: 1, Currency: "USD"}, 0, "currency"},
		{"sub", money.Money.Sub, eur(100), eur(250), -150, ""},
		{"sub to min", money.Money.Sub, eur(-1), eur(math.MaxInt64), math.MinInt64, ""},
		{"sub past min", money.Money.Sub, eur(math.MinInt64), eur(1), 0, "amount_minor"},
		{"sub past max", money.Money.Sub, eur(math.MaxInt64), eur(-1), 0, "amount_minor"},
		{"sub min from zero", money.Money.Sub, eur(0), eur(math.MinInt64), 0, "amount_minor"},
		{"sub min from min", money.Money.Sub, eur(math.MinInt64), eur(math.MinInt64), 0, ""},
		{"sub currencies", money.Money.Sub, eur(1), money.Money{Minor: 1, Currency: "SEK"}, 0, "currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.op(tt.a, tt.b)
			if tt.wantErr != "" {
				wantInvalid(t, err, tt.wantErr)
				return
			}
			if err != nil || got != eur(tt.want) {
				t.Fatalf("got %+v, %v; want %d EUR", got, err, tt.want)
			}
		})
	}
}

func TestNeg(t *testing.T) {
	for in, want := range map[int64]int64{5: -5, -5: 5, 0: 0, math.MaxInt64: -math.MaxInt64} {
		got, err := eur(in).Neg()
		if err != nil || got != eur(want) {
			t.Errorf("Neg(%d) = %+v, %v; want %d", in, got, err, want)
		}
	}
	_, err := eur(math.MinInt64).Neg()
	wantInvalid(t, err, "amount_minor")
}

func TestMulQuantity(t *testing.T) {
	tests := []struct {
		minor int64
		q     string
		want  int64
	}{
		{5, "0.5", 2},   // 2.5 → 2: ties go to the even neighbour
		{7, "0.5", 4},   // 3.5 → 4
		{3, "0.5", 2},   // 1.5 → 2
		{1, "0.5", 0},   // 0.5 → 0
		{-5, "0.5", -2}, // -2.5 → -2, symmetric
		{-7, "0.5", -4}, // -3.5 → -4
		{5, "-0.5", -2},
		{1999, "3", 5997},
		{1999, "1.5", 2998},  // 2998.5 → 2998
		{1999, "2.25", 4498}, // 4497.75 → 4498
		{12000, "0.333", 3996},
		{100, "-1", -100},
		{100, "0", 0},
		{4999, "0.0001", 0}, // 0.4999 → 0
		{5001, "0.0001", 1}, // 0.5001 → 1
		// 5 × 0.6999999999999999999 = 3.4999999999999999995 exactly. Rounding
		// that to 19 digits first would give 3.5 and then 4; rounding once gives 3.
		{5, "0.6999999999999999999", 3},
		{math.MaxInt64, "1.0000", math.MaxInt64},
		{math.MinInt64, "1", math.MinInt64},
		{math.MaxInt64, "-1", -math.MaxInt64},
		{math.MaxInt64, "0.5", 4611686018427387904}, // ...903.5 → ...904 (even)
	}
	for _, tt := range tests {
		got, err := eur(tt.minor).MulQuantity(decimal.MustParse(tt.q))
		if err != nil || got != eur(tt.want) {
			t.Errorf("%d × %s = %+v, %v; want %d", tt.minor, tt.q, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		minor int64
		q     string
	}{
		{math.MaxInt64, "2"},
		{math.MaxInt64, "1.000000000000000001"}, // +9.22 minor units
		{math.MinInt64, "-1"},
		{1 << 40, "9999999999999999999"},
	} {
		_, err := eur(tt.minor).MulQuantity(decimal.MustParse(tt.q))
		wantInvalid(t, err, "amount_minor")
	}
}

func TestMulQuantityKeepsCurrency(t *testing.T) {
	got, err := money.Money{Minor: 1000, Currency: "JPY"}.MulQuantity(decimal.MustParse("1.5"))
	if err != nil || got != (money.Money{Minor: 1500, Currency: "JPY"}) {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestProrate(t *testing.T) {
	tests := []struct {
		minor, num, den, want int64
	}{
		{3000, 12, 30, 1200},
		{1000, 1, 3, 333},    // 333.33…
		{1000, 2, 3, 667},    // 666.66…
		{2999, 14, 28, 1500}, // 1499.5 → 1500 (even)
		{2997, 14, 28, 1498}, // 1498.5 → 1498 (even)
		{5, 1, 2, 2},         // 2.5 → 2
		{7, 1, 2, 4},         // 3.5 → 4
		{-5, 1, 2, -2},
		{-7, 1, 2, -4},
		{4999, 0, 31, 0},
		{4999, 31, 31, 4999},
		{math.MinInt64, 1, 1, math.MinInt64},
		{math.MaxInt64, 1, 2, 4611686018427387904}, // ...903.5 → ...904
		{math.MaxInt64, math.MaxInt64 - 1, math.MaxInt64, math.MaxInt64 - 1},
	}
	for _, tt := range tests {
		got, err := money.Prorate(eur(tt.minor), tt.num, tt.den)
		if err != nil || got != eur(tt.want) {
			t.Errorf("Prorate(%d, %d/%d) = %+v, %v; want %d", tt.minor, tt.num, tt.den, got, err, tt.want)
		}
	}
	for _, bad := range [][2]int64{{1, 0}, {0, 0}, {1, -30}, {-1, 30}, {31, 30}} {
		_, err := money.Prorate(eur(1000), bad[0], bad[1])
		wantInvalid(t, err, "days")
	}
}

func TestMulRatio(t *testing.T) {
	for _, tc := range []struct {
		m        money.Money
		num, den int64
		want     int64
	}{
		{eur(8500), 50, 60, 7083},  // 70.833… → 70.83
		{eur(8500), 90, 60, 12750}, // exact
		{eur(3), 1, 2, 2},          // 1.5 → 2 (even)
		{eur(5), 1, 2, 2},          // 2.5 → 2 (even)
		{eur(-5), 1, 2, -2},        // -2.5 → -2 (even)
		{eur(18000), 20, 60, 6000}, // a third of an hour
	} {
		got, err := tc.m.MulRatio(tc.num, tc.den)
		if err != nil || got.Minor != tc.want {
			t.Errorf("%v × %d/%d = %v, %v; want %d", tc.m, tc.num, tc.den, got, err, tc.want)
		}
	}
	if _, err := eur(1).MulRatio(1, 0); err == nil {
		t.Error("zero denominator accepted")
	}
	if _, err := eur(math.MaxInt64).MulRatio(2, 1); err == nil {
		t.Error("overflow accepted")
	}
}
