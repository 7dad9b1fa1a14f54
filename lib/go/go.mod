module ctxfd

go 1.19

require golang.org/x/sys v0.3.0

// Debian's golang-golang-x-sys-dev: builds offline, no module proxy.
replace golang.org/x/sys => /usr/share/gocode/src/golang.org/x/sys
