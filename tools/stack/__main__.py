from tools.stack.cli import main

main()
