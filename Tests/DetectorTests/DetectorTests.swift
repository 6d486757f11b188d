import XCTest
@testable import Detector
