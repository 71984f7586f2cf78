from aimv_backend.cli.main import main

raise SystemExit(main())
