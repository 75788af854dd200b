//go:build race

package handler

// raceEnabled: the race detector slows byte loops tenfold; memory tests
// move less data under it.
const raceEnabled = true
