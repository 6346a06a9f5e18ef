from airspace.cli.main import main

main()
