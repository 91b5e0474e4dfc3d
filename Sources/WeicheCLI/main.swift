import Foundation

// `weiche`: see CommandLineTool for the commands and Docs/Operations.md for their use.
let context = CommandContext(environment: ProcessInfo.processInfo.environment)
let code = await CommandLineTool.run(CommandLine.arguments, context: context)
exit(code.rawValue)
