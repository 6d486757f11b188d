# Unmask — the two commands a new user runs: `make demo` and `make test`.
# Both install the Debian packages they need when missing, build, and run.

SHELL := /bin/bash
APT_PACKAGES := libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libopenblas-dev pkg-config
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The Swift runtime and Foundation are linked in, so the binary (and `make install`'s copy) runs on a
# machine without the Swift toolchain; it needs only the Debian packages above (their runtime libraries).
SWIFT_RELEASE := swift build -c release --static-swift-stdlib
UNMASK := .build/release/unmask

.PHONY: demo test deps build lint clean install fuzz asan tsan

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT_RELEASE)

test: deps lint
	swift build -c release -Xswiftc -enable-testing --build-tests
	swift test -c release -Xswiftc -enable-testing --skip-build --disable-swift-testing

# Reliability runs, each long and none part of `make test` (README "Fuzzing and sanitizers"):
# `make fuzz` builds the libFuzzer targets and runs each FUZZ_SECONDS (default 60) from Fuzz/corpus;
# `make asan` / `make tsan` run the XCTest suite (or FILTER=Name) under Address/ThreadSanitizer,
# each in its own build folder so that the normal builds stay as they are. Leak checking is off
# unless ASAN_OPTIONS asks for it: a process that exits from inside ArgumentParser (a usage error)
# still holds its parse state, which LeakSanitizer reports and turns into exit status 1.
FUZZ_SECONDS ?= 60
SANITIZED_TEST = -c release -Xswiftc -enable-testing --disable-swift-testing

fuzz: deps
	Scripts/fuzz.sh build
	FUZZ_SECONDS=$(FUZZ_SECONDS) Scripts/fuzz.sh run

asan: deps
	swift build $(SANITIZED_TEST) --build-tests --sanitize=address --scratch-path .build/asan
	ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=0} swift test $(SANITIZED_TEST) --skip-build --sanitize=address --scratch-path .build/asan $(if $(FILTER),--filter $(FILTER))

tsan: deps
	swift build $(SANITIZED_TEST) --build-tests --sanitize=thread --scratch-path .build/tsan
	swift test $(SANITIZED_TEST) --skip-build --sanitize=thread --scratch-path .build/tsan $(if $(FILTER),--filter $(FILTER))

# Formatting rules live in .swift-format; `swift format format -i -r Sources Tests Fuzz Package.swift` applies them.
lint:
	swift format lint --strict -r Sources Tests Fuzz Package.swift

demo: build
	@mkdir -p demo-out
	$(UNMASK) probe Samples/city.mp4 Samples/city-manipulated.mp4
	$(UNMASK) scan Samples/city.mp4 --output demo-out/city.html --output demo-out/city.json
	$(UNMASK) scan Samples/city-manipulated.mp4 --output demo-out/city-manipulated.html --output demo-out/city-manipulated.json
	@echo
	@echo "HTML reports: demo-out/city.html (the real clip) and demo-out/city-manipulated.html (a generated"
	@echo "region blended into the central tower from 2.5 s to 5.5 s by Scripts/make-manipulated-sample.sh)."
	@echo
	$(UNMASK) audit Samples --out demo-out/audit
	@echo
	@echo "Audit summary of Samples/: $(CURDIR)/demo-out/audit/index.html"

clean:
	rm -rf .build demo-out

# `make install PREFIX=~/.local` (default /usr/local): the binary in PREFIX/bin, the shipped model where
# the binary looks for it by default (PREFIX/share/unmask/models), beside the earlier unmask-v1 for
# --model. DESTDIR stages a package.
PREFIX ?= /usr/local
MODEL_DIR := $(DESTDIR)$(PREFIX)/share/unmask/models

install: build
	install -D -m 755 $(UNMASK) $(DESTDIR)$(PREFIX)/bin/unmask
	install -D -m 644 Models/unmask-v2.safetensors $(MODEL_DIR)/unmask-v2.safetensors
	install -D -m 644 Models/unmask-v1.safetensors $(MODEL_DIR)/unmask-v1.safetensors
	install -D -m 644 Models/MODEL_CARD.md $(MODEL_DIR)/MODEL_CARD.md
