// Command hello is a static binary for the ociimage tests.
package main

import "fmt"

func main() { fmt.Println("hello") }
