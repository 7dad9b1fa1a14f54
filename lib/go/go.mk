# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Go binding (lib/go, module "ctxfd"): built, vetted and its tests
# compiled on the host with Debian's Go (golang-go) and x/sys
# (golang-golang-x-sys-dev, through go.mod's replace), offline and without
# cgo; the tests run in the VM as build/selftests/go/binding_test.
# Included by the top Makefile.
#
#   make go               vet the package and build the example
#   make selftests        also the test binaries in build/go/tests/
#
# Debian's Go is 1.19, which has no context.Cause: the package builds the
# Go 1.20 parts (cause_go120*.go) only with a newer Go. If one is installed
# (bookworm-backports' golang-1.2x-go, in /usr/lib/go-1.2x; tools/deps.sh
# check installs the newest), its vet and a second test binary,
# ctxfd-go-1.2x.test, cover them too: it runs the tests of causes and of
# Go contexts (GO_NEW= to skip).

GO ?= go
GO_DIR := $(BUILD)/go
# No network (GOPROXY=off), no cgo, caches under build/, and the go.mod as
# it is (-mod=readonly): a missing module is an error, never a download.
GO_ENV := GOPROXY=off GOFLAGS=-mod=readonly CGO_ENABLED=0 GOTOOLCHAIN=local \
	GOCACHE=$(TOP)/$(GO_DIR)/cache GOPATH=$(TOP)/$(GO_DIR)/path \
	GOMODCACHE=$(TOP)/$(GO_DIR)/path/pkg/mod
GO_SRCS := lib/go/go.mod $(wildcard lib/go/*.go)
GO_EX_SRCS := $(wildcard lib/go/examples/httppipeline/*.go)
GO_TESTS := $(GO_DIR)/tests/ctxfd.test $(GO_DIR)/tests/httppipeline.test
GO_NEW ?= $(lastword $(sort $(wildcard /usr/lib/go-1.2*/bin/go)))
GO_NEW_NAME := $(notdir $(patsubst %/bin/go,%,$(GO_NEW)))
ifneq ($(GO_NEW),)
GO_TESTS += $(GO_DIR)/tests/ctxfd-$(GO_NEW_NAME).test
endif

.PHONY: go
go: $(GO_DIR)/vet.stamp $(GO_DIR)/bin/httppipeline

selftests: $(GO_TESTS) $(BUILD)/selftests/go/binding_test

$(GO_DIR)/vet.stamp: $(GO_SRCS) $(GO_EX_SRCS)
	@command -v $(GO) >/dev/null || { echo "the Go binding needs Go: apt-get install -y golang-go golang-golang-x-sys-dev" >&2; exit 2; }
	@test -d /usr/share/gocode/src/golang.org/x/sys || { echo "the Go binding needs apt-get install -y golang-golang-x-sys-dev" >&2; exit 2; }
	@mkdir -p $(dir $@)
	@echo "  GO VET lib/go"
	@cd lib/go && $(GO_ENV) $(GO) vet ./...
	@touch $@

$(GO_DIR)/tests/ctxfd-$(GO_NEW_NAME).test: $(GO_SRCS) $(GO_DIR)/vet.stamp
	@mkdir -p $(dir $@)
	@echo "  GO TEST -c $@ ($(GO_NEW))"
	@cd lib/go && $(GO_ENV) $(GO_NEW) vet ./... && $(GO_ENV) $(GO_NEW) test -c -o $(TOP)/$@ .
	@echo $(TOP)/lib/go > $@.dir
	@echo "-test.run Cause|Derive|Bridge|Go" > $@.args

$(GO_DIR)/bin/httppipeline: $(GO_SRCS) $(GO_EX_SRCS)
	@mkdir -p $(dir $@)
	@echo "  GO BUILD $@"
	@cd lib/go && $(GO_ENV) $(GO) build -o $(TOP)/$@ ./examples/httppipeline

# go test -c: the package's tests (and examples) and the example's, each
# with the directory it runs in next to it.
$(GO_DIR)/tests/ctxfd.test: $(GO_SRCS) $(GO_DIR)/vet.stamp
	@mkdir -p $(dir $@)
	@echo "  GO TEST -c $@"
	@cd lib/go && $(GO_ENV) $(GO) test -c -o $(TOP)/$@ .
	@echo $(TOP)/lib/go > $@.dir

$(GO_DIR)/tests/httppipeline.test: $(GO_SRCS) $(GO_EX_SRCS) $(GO_DIR)/vet.stamp
	@mkdir -p $(dir $@)
	@echo "  GO TEST -c $@"
	@cd lib/go && $(GO_ENV) $(GO) test -c -o $(TOP)/$@ ./examples/httppipeline
	@echo $(TOP)/lib/go/examples/httppipeline > $@.dir

$(BUILD)/selftests/go/binding_test: selftests/go/run.sh
	@mkdir -p $(dir $@)
	install -m 0755 $< $@
