fn main() -> std::process::ExitCode {
    fabriques_api::cli::main()
}
