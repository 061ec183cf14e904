package main

import "github.com/goccy/go-yaml"

func yamlMarshal(v any) ([]byte, error) { return yaml.Marshal(v) }
