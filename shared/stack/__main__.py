from shared.stack.cli import main

main()
