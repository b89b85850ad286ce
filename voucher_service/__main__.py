from voucher_service.cli import main

main()
