import ArgumentParser

/// `--library DIR`, shared by the library subcommands.
struct LibraryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The library folder.", valueName: "dir")) var library: String
}
