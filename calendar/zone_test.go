package calendar

import "testing"

func TestZoneIsResolvedOncePerName(t *testing.T) {
	first, err := Zone("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	again, err := Zone("Europe/Helsinki")
	if err != nil || again != first {
		t.Fatalf("the second lookup gave %p (%v), want the first %p", again, err, first)
	}
	if _, err := Zone("Mars/Olympus_Mons"); err == nil {
		t.Fatal("an unknown zone resolved")
	}
	if _, ok := zones.Load("Mars/Olympus_Mons"); ok {
		t.Fatal("an unknown zone was remembered")
	}
}
