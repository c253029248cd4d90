import CCurl
import Foundation
import Glibc

/// libcurl, opened at run time with dlopen: the `imprint` binary goes into units' images that may lack it, and a
/// unit must still personalize offline, so libcurl is never linked and is needed only when a server is asked.
///
/// `curl_easy_setopt` and `curl_easy_getinfo` are variadic C functions, which Swift cannot call. Each is called
/// here through a non-variadic function pointer type per kind of third argument (a `long`, a pointer, a
/// `curl_off_t`, a callback). That is sound on the two platforms Imprint runs on, because there the caller passes
/// variadic integer and pointer arguments exactly where it passes named ones:
/// - x86-64 (System V ABI): the first six integer-class arguments, named or variadic, go in rdi, rsi, rdx, rcx, r8,
///   r9. The one extra a variadic call sets is al, an upper bound of the vector registers used, which the callee's
///   prologue reads only to decide whether to spill xmm0-7 into its register save area; with no floating-point
///   argument nothing is read from there, so whatever al holds changes no argument.
/// - aarch64 Linux (AAPCS64, unlike Apple's arm64 ABI, which puts variadic arguments on the stack): variadic
///   arguments are passed as named ones are, in x0-x7.
/// `long` and `curl_off_t` are both 64-bit there (LP64), and every argument is one register wide, so the callee's
/// `va_arg(long)`, `va_arg(void *)` or `va_arg(curl_off_t)` reads the register the typed call filled.
final class CurlLibrary: @unchecked Sendable {
    // @unchecked: only immutable function pointers into a library that is never closed.

    /// The library's file name on Debian (libcurl4; libcurl3-gnutls has libcurl-gnutls.so.4 with the same API).
    static let defaultName = "libcurl.so.4"

    typealias Handle = UnsafeMutableRawPointer
    typealias DataCallback = @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int

    let name: String
    let easyInit: @convention(c) () -> Handle?
    let easyCleanup: @convention(c) (Handle?) -> Void
    let easyPerform: @convention(c) (Handle?) -> CURLcode
    let easyStrerror: @convention(c) (CURLcode) -> UnsafePointer<CChar>?
    let slistAppend: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> OpaquePointer?
    let slistFreeAll: @convention(c) (OpaquePointer?) -> Void
    // curl_easy_setopt(CURL *, CURLoption, ...), one type per kind of value.
    let setLong: @convention(c) (Handle?, CURLoption, Int) -> CURLcode
    let setPointer: @convention(c) (Handle?, CURLoption, UnsafeRawPointer?) -> CURLcode
    let setOffset: @convention(c) (Handle?, CURLoption, Int64) -> CURLcode
    let setCallback: @convention(c) (Handle?, CURLoption, DataCallback?) -> CURLcode
    // curl_easy_getinfo(CURL *, CURLINFO, ...): always a pointer to where the value goes.
    let getLong: @convention(c) (Handle?, CURLINFO, UnsafeMutablePointer<Int>?) -> CURLcode

    private static let globalInit = NSLock()
    nonisolated(unsafe) private static var initialized: Set<String> = []

    /// Opens the library `name` (a file name the dynamic loader looks up, or a path) and finds its functions.
    /// - Throws: `RemoteError.libraryMissing` naming what to install.
    init(name: String = defaultName) throws(RemoteError) {
        self.name = name
        // RTLD_LOCAL: libcurl's symbols stay out of the global namespace; dlsym finds them through the handle.
        guard let library = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "the dynamic loader cannot open it"
            throw .libraryMissing(library: name, reason: Self.shortReason(reason, name: name))
        }
        func symbol<T>(_ symbol: String, as type: T.Type) throws(RemoteError) -> T {
            guard let address = dlsym(library, symbol) else {
                throw .libraryMissing(library: name, reason: "it has no function \(symbol); is it libcurl?")
            }
            return unsafeBitCast(address, to: type)
        }
        easyInit = try symbol("curl_easy_init", as: (@convention(c) () -> Handle?).self)
        easyCleanup = try symbol("curl_easy_cleanup", as: (@convention(c) (Handle?) -> Void).self)
        easyPerform = try symbol("curl_easy_perform", as: (@convention(c) (Handle?) -> CURLcode).self)
        easyStrerror = try symbol("curl_easy_strerror", as: (@convention(c) (CURLcode) -> UnsafePointer<CChar>?).self)
        slistAppend = try symbol("curl_slist_append", as: (@convention(c) (OpaquePointer?, UnsafePointer<CChar>?) -> OpaquePointer?).self)
        slistFreeAll = try symbol("curl_slist_free_all", as: (@convention(c) (OpaquePointer?) -> Void).self)
        setLong = try symbol("curl_easy_setopt", as: (@convention(c) (Handle?, CURLoption, Int) -> CURLcode).self)
        setPointer = try symbol("curl_easy_setopt", as: (@convention(c) (Handle?, CURLoption, UnsafeRawPointer?) -> CURLcode).self)
        setOffset = try symbol("curl_easy_setopt", as: (@convention(c) (Handle?, CURLoption, Int64) -> CURLcode).self)
        setCallback = try symbol("curl_easy_setopt", as: (@convention(c) (Handle?, CURLoption, DataCallback?) -> CURLcode).self)
        getLong = try symbol("curl_easy_getinfo", as: (@convention(c) (Handle?, CURLINFO, UnsafeMutablePointer<Int>?) -> CURLcode).self)

        // curl_global_init is not thread-safe before 7.84, and curl_easy_init would call it unlocked: call it once
        // per library, under a lock. Without CURL_GLOBAL_ACK_EINTR and with CURLOPT_NOSIGNAL no signal is touched.
        let globalInitFunction = try symbol("curl_global_init", as: (@convention(c) (Int) -> CURLcode).self)
        Self.globalInit.lock()
        defer { Self.globalInit.unlock() }
        if !Self.initialized.contains(name) {
            let code = globalInitFunction(Int(CURL_GLOBAL_DEFAULT))
            guard code == CURLE_OK else {
                throw .libraryMissing(library: name, reason: "curl_global_init failed with code \(code.rawValue)")
            }
            Self.initialized.insert(name)
        }
    }

    /// libcurl's text for a result code.
    func message(_ code: CURLcode) -> String {
        easyStrerror(code).map { String(cString: $0) } ?? "curl error \(code.rawValue)"
    }

    /// dlerror's text without the library name it repeats.
    private static func shortReason(_ reason: String, name: String) -> String {
        reason.hasPrefix(name + ": ") ? String(reason.dropFirst(name.count + 2)) : reason
    }
}
