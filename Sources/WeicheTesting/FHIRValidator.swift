import Foundation
import Weiche

/// Validates JSON documents as FHIR R4 with Python's `fhir.resources` (model `R4B`), an
/// implementation independent of Weiche's. `.ci/run` installs it; elsewhere tests that use it
/// run when `python3 -c 'import fhir.resources.R4B'` works (see ``shouldRun``).
public enum FHIRValidator {
    static let script = """
        import json, sys
        from fhir.resources.R4B import get_fhir_model_class
        failures = 0
        for path in sys.argv[1:]:
            text = open(path, encoding="utf-8").read()
            kind = json.loads(text)["resourceType"]
            try:
                get_fhir_model_class(kind).model_validate_json(text)
            except Exception as error:
                failures += 1
                print(path + ": " + str(error).replace("\\n", " | "))
        sys.exit(1 if failures else 0)
        """

    /// Whether the validator can run here.
    public static let isAvailable: Bool =
        (try? Subprocess.runBlocking("/usr/bin/env", ["python3", "-c", "import fhir.resources.R4B"]).status) == 0

    /// Tests validating FHIR run where the validator is installed, and always in CI (where a
    /// missing validator must fail, not skip).
    public static var shouldRun: Bool { isAvailable || ProcessInfo.processInfo.environment["CI"] != nil }

    /// The documents that failed, each with the validator's message; empty if all are valid R4.
    public static func validate(_ documents: [[UInt8]]) async throws -> [String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weiche-fhir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for (index, bytes) in documents.enumerated() {
            let url = directory.appendingPathComponent("\(index).json")
            try Data(bytes).write(to: url)
            paths.append(url.path)
        }
        let outcome = try await Subprocess.run("/usr/bin/env", ["python3", "-c", script] + paths)
        let lines = outcome.output.split(separator: "\n").map(String.init)
        if outcome.status != 0 && lines.isEmpty { return ["the validator failed with status \(outcome.status)"] }
        return outcome.status == 0 ? [] : lines
    }
}
