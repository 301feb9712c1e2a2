using System;
using System.Management.Automation.Host;

namespace XetPs.Host;

/// <summary>
/// The raw console as the formatter sees it: mostly the width tables are laid out for. On a terminal that is the
/// window width; redirected, $COLUMNS or 120 (what pwsh uses when it cannot ask a console).
/// Screen-buffer reads and writes are not offered: nothing in a script run needs them.
/// </summary>
internal sealed class ConsoleRawUserInterface : PSHostRawUserInterface
{
    public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;
    public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;
    public override Coordinates CursorPosition { get; set; }
    public override int CursorSize { get; set; } = 25;
    public override Coordinates WindowPosition { get; set; }
    public override string WindowTitle { get; set; } = "tools/ps";

    public override Size BufferSize
    {
        get => new(Width(), 9001);
        set { }
    }

    public override Size WindowSize
    {
        get => new(Width(), Height());
        set { }
    }

    public override Size MaxWindowSize => WindowSize;
    public override Size MaxPhysicalWindowSize => WindowSize;
    public override bool KeyAvailable => !Console.IsInputRedirected && Console.KeyAvailable;

    public override void FlushInputBuffer() { }

    public override KeyInfo ReadKey(ReadKeyOptions options)
    {
        var key = Console.ReadKey((options & ReadKeyOptions.NoEcho) != 0);
        return new KeyInfo((int)key.Key, key.KeyChar, default, keyDown: true);
    }

    public override BufferCell[,] GetBufferContents(Rectangle rectangle) =>
        throw new NotSupportedException("tools/ps does not read the screen buffer.");

    public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) =>
        throw new NotSupportedException("tools/ps does not scroll the screen buffer.");

    public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) =>
        throw new NotSupportedException("tools/ps does not write the screen buffer.");

    public override void SetBufferContents(Rectangle rectangle, BufferCell fill) =>
        throw new NotSupportedException("tools/ps does not write the screen buffer.");

    internal static int Width()
    {
        if (!Console.IsOutputRedirected)
        {
            try
            {
                var width = Console.WindowWidth;
                if (width > 0) return width;
            }
            catch (System.IO.IOException)
            {
                // No console after all: fall through to the redirected default.
            }
        }
        return int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var columns) && columns > 0 ? columns : 120;
    }

    private static int Height()
    {
        if (Console.IsOutputRedirected) return 50;
        try
        {
            return Math.Max(1, Console.WindowHeight);
        }
        catch (System.IO.IOException)
        {
            return 50;
        }
    }
}
