import Testing
import Weiche

@Suite("SHA-256 through libcrypto")
struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownVectors(input: String, digest: String) {
        #expect(SHA256.hexDigest(of: input) == digest)
    }

    /// The implementation is fetched once and shared by every thread.
    @Test func fromManyTasksAtOnceAndInTwoParts() async {
        let inputs = (0..<400).map { Array("input \($0)".utf8) }
        let alone = inputs.map { SHA256.hash($0) }
        let together = await withTaskGroup(of: (Int, [UInt8]).self) { group in
            for (index, input) in inputs.enumerated() { group.addTask { (index, SHA256.hash(input)) } }
            return await group.reduce(into: [Int: [UInt8]]()) { $0[$1.0] = $1.1 }
        }
        #expect(inputs.indices.allSatisfy { together[$0] == alone[$0] })
        #expect(Set(alone).count == inputs.count)
        #expect(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijk".utf8), Array("ijkljklmklmnlmnomnopnopq".utf8)).hexString
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
