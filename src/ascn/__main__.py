from ascn.cli import main

main()
