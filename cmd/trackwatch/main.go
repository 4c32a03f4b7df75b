// Command trackwatch catches fake and abused tracking numbers before buyer protection
// runs out. Run `trackwatch help` for the subcommands.
package main

import "github.com/trackwatch/trackwatch/internal/cli"

func main() { cli.Run(Main) }
