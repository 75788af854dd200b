// Command quickstart runs Switchyard against built-in fake upstreams, with
// no API key, and prints what happened.
package main

import "fmt"

func main() {
	fmt.Println("switchyard quickstart: under construction")
}
