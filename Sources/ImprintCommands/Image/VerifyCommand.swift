import ArgumentParser
import Foundation
import ImprintImage

struct VerifyCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every block and every file of an image.",
        discussion: """
            Reads the whole image (a file, or - for standard input), inflating blocks on every core, and checks each \
            block's header and CRC-32, each file's SHA-256, the block index (the SHA-256 of every block) and the \
            tail. The first damage is reported with the image offset and the file it hit; nothing is written.

            \(ExitStatus.helpTable)
            """)

    @Argument(help: ArgumentHelp("The image file, or - for standard input.", valueName: "image")) var image: String
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var passphrase: PassphraseOptions
    @Flag(help: "Print the result as JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let input = try ImageInput(path: image)
        let bar = ProgressBar("verify", counting: .compressed, total: input.size, context: context)
        defer { bar?.stop() }
        let result = try Restore.verify(
            input, threads: threads.count, passphrase: passphrase.provider(),
            progress: { bar?.update($0) })
        bar?.finish()
        let view = ImageView(manifest: result.manifest, summary: result.summary, imageBytes: input.size ?? 0)
        if json {
            try context.printJSON(view)
        } else {
            context.print(view.text(title: "\(image): ok, every block and file checked"))
        }
    }
}
