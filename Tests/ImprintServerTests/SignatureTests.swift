import Foundation
import ImprintWire
import Testing

@Suite struct SignatureTests {
    /// A signature checks only against the same method, path, nonce and body, and only with the token's key.
    @Test func signatureCoversEveryPart() {
        let token = RequestSignature.randomToken()
        let key = RequestSignature.tokenDigest(token)
        let body = Data(#"{"event":"applied"}"#.utf8)
        let signed = RequestSignature.sign(token: token, unit: "LAB-01", method: "POST", path: "/v1/units/LAB-01/reports", nonce: "n1", body: body)
        #expect(signed.isValid(key: key, method: "POST", path: "/v1/units/LAB-01/reports", body: body))
        #expect(!signed.isValid(key: key, method: "PUT", path: "/v1/units/LAB-01/reports", body: body))
        #expect(!signed.isValid(key: key, method: "POST", path: "/v1/units/LAB-02/reports", body: body))
        #expect(!signed.isValid(key: key, method: "POST", path: "/v1/units/LAB-01/reports", body: Data("{}".utf8)))
        #expect(!signed.isValid(key: RequestSignature.tokenDigest("other"), method: "POST", path: "/v1/units/LAB-01/reports", body: body))
        var replayed = signed
        replayed.nonce = "n2"
        #expect(!replayed.isValid(key: key, method: "POST", path: "/v1/units/LAB-01/reports", body: body))
        var garbled = signed
        garbled.signature = "zz"
        #expect(!garbled.isValid(key: key, method: "POST", path: "/v1/units/LAB-01/reports", body: body))
    }
}
