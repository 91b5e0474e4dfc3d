import Foundation

/// Validates JSON documents as FHIR R4 with Python's `fhir.resources` (model `R4B`), an
/// implementation independent of Weiche's.
enum FHIRValidator {
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

    static let isAvailable: Bool = (try? run(["-c", "import fhir.resources.R4B"]).status) == 0

    /// The documents that failed, each with the validator's message.
    static func validate(_ documents: [[UInt8]]) throws -> [String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weiche-fhir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for (index, bytes) in documents.enumerated() {
            let url = directory.appendingPathComponent("\(index).json")
            try Data(bytes).write(to: url)
            paths.append(url.path)
        }
        let (status, output) = try run(["-c", script] + paths)
        let lines = output.split(separator: "\n").map(String.init)
        if status != 0 && lines.isEmpty { return ["the validator failed with status \(status)"] }
        return lines
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
