package calendar

import (
	"slices"
	"time"
)

// Easter returns Western (Gregorian) Easter Sunday of year, computed with the
// anonymous Gregorian algorithm (Meeus/Jones/Butcher).
func Easter(year int) Date {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	n := h + l - 7*m + 114
	return Date{year, time.Month(n / 31), n%31 + 1}
}

// FinnishHolidays returns the days Finnish workplaces are closed in year, in
// date order: the public holidays plus Midsummer Eve and Christmas Eve, which
// are de facto days off.
func FinnishHolidays(year int) []Date {
	easter := Easter(year)
	midsummerEve := firstOnOrAfter(Date{year, time.June, 19}, time.Friday)
	allSaints := firstOnOrAfter(Date{year, time.October, 31}, time.Saturday)
	days := []Date{
		{year, time.January, 1},   // New Year's Day
		{year, time.January, 6},   // Epiphany
		easter.AddDays(-2),        // Good Friday
		easter,                    // Easter Sunday
		easter.AddDays(1),         // Easter Monday
		{year, time.May, 1},       // May Day
		easter.AddDays(39),        // Ascension Day
		easter.AddDays(49),        // Whit Sunday
		midsummerEve,              // Midsummer Eve, Friday Jun 19–25
		midsummerEve.AddDays(1),   // Midsummer Day, Saturday Jun 20–26
		allSaints,                 // All Saints' Day, Saturday Oct 31–Nov 6
		{year, time.December, 6},  // Independence Day
		{year, time.December, 24}, // Christmas Eve
		{year, time.December, 25}, // Christmas Day
		{year, time.December, 26}, // Boxing Day
	}
	// Ascension Day falls on April 30, before May Day, when Easter is March 22.
	slices.SortFunc(days, Date.Compare)
	return days
}

// firstOnOrAfter returns the first date on or after d that falls on wd.
func firstOnOrAfter(d Date, wd time.Weekday) Date {
	return d.AddDays((int(wd) - int(d.Weekday()) + 7) % 7)
}
