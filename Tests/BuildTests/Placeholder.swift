import Testing
@testable import Build
