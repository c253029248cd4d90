import Foundation
import ImprintImage
import ImprintTestSupport
import Testing

@Suite struct LibraryCacheTests {
    /// Listed again, a library reads only the manifests of images added or replaced since; a removed image is
    /// forgotten, and a replaced one (a new file under the same name) shows its new manifest.
    @Test func readsOnlyWhatChanged() throws {
        let folder = try TemporaryDirectory()
        _ = try folder.write("tree/etc/hostname", "master\n")
        let library = folder.file("library")
        try FileManager.default.createDirectory(atPath: library, withIntermediateDirectories: true)
        try capture(folder.file("tree"), to: library + "/one.imprint")
        try capture(folder.file("tree"), to: library + "/two.imprint")
        let cache = LibraryCache()

        #expect(try Library.list(library, cache: cache).images.count == 2)
        #expect(cache.reads == 2)
        #expect(try Library.list(library, cache: cache).images.map(\.name).sorted() == ["one.imprint", "two.imprint"])
        #expect(cache.reads == 2)

        try FileManager.default.removeItem(atPath: library + "/one.imprint")
        _ = try folder.write("tree/etc/motd", "a change\n")
        let replacement = folder.file("two.new")
        try capture(folder.file("tree"), to: replacement)
        #expect(rename(replacement, library + "/two.imprint") == 0)
        let listed = try Library.list(library, cache: cache).images
        #expect(listed.map(\.name) == ["two.imprint"])
        #expect(cache.reads == 3)
        #expect(listed.first?.bytes == UInt64(try FileManager.default.attributesOfItem(atPath: library + "/two.imprint")[.size] as? Int ?? 0))
    }
}
