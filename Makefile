# Unmask — the two commands a new user runs: `make demo` and `make test`.
# Both install the Debian packages they need when missing, build, and run.

SHELL := /bin/bash
APT_PACKAGES := libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libopenblas-dev pkg-config
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT_RELEASE := swift build -c release
UNMASK := .build/release/unmask

.PHONY: demo test deps build lint clean

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

# Formatting rules live in .swift-format; `swift format format -i -r Sources Tests Package.swift` applies them.
lint:
	swift format lint --strict -r Sources Tests Package.swift

demo: build
	$(UNMASK) probe Samples/*.mp4
	$(UNMASK) frames Samples/city.mp4 --fps 1 --out demo-out/frames
	@echo "Frames as the detector sees them: demo-out/frames/. No trained default model ships yet, so the demo"
	@echo "stops short of 'unmask scan' (which takes --model FILE until Models/unmask-v1.safetensors exists)."

clean:
	rm -rf .build demo-out
