from airspace.cli.main import main

if __name__ == "__main__":  # media worker processes import this module again
    main()
